#include "engine/native_stack.hpp"

#include <pthread.h>

#include <cstdint>

namespace wasmplug::detail {

namespace {

// A thread's stack never moves, so its bounds are a property of the thread,
// not of any call: caching them per thread is not call context.
struct StackBounds {
  bool read = false;
  std::uintptr_t low = 0;  // 0: unknown
};

StackBounds read_bounds() noexcept {
  StackBounds bounds{true, 0};
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

}  // namespace

std::uintptr_t native_stack_low() noexcept {
  thread_local StackBounds bounds;
  if (!bounds.read) [[unlikely]] {
    bounds = read_bounds();
  }
  return bounds.low;
}

}  // namespace wasmplug::detail
