#include "engine/native_stack.hpp"

#include <pthread.h>

#include <cstdint>

namespace wasmplug::detail {

NativeStackBounds read_native_stack_bounds() noexcept {
  NativeStackBounds bounds{true, 0};
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) {
    return bounds;
  }
  void* addr = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    bounds.low = reinterpret_cast<std::uintptr_t>(addr);
  }
  pthread_attr_destroy(&attr);
  return bounds;
}

}  // namespace wasmplug::detail
