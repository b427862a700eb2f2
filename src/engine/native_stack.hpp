// How much native stack the calling thread has left. Wasm runs on the
// caller's stack: Wasmtime stops a guest after RuntimeConfig::max_wasm_stack
// bytes, measured from where the call entered wasm, and host functions the
// guest calls run below that. A thread with less stack than that would fault
// (SIGSEGV) before Wasmtime's own check fires, so calls check first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace wasmplug::detail {

/// Native stack a host function may use below the guest's deepest frame.
inline constexpr std::size_t kHostStackHeadroom = 256u << 10;

/// The lowest usable address of this thread's stack, 0 when unknown. Read
/// once per thread (pthread_getattr_np); later calls read a thread_local.
struct NativeStackBounds {
  bool read = false;
  std::uintptr_t low = 0;  // 0: unknown
};
/// The calling thread's stack bounds from pthread (once per thread).
[[nodiscard]] NativeStackBounds read_native_stack_bounds() noexcept;

/// The lowest address of the calling thread's stack, or 0 if unknown. Inline:
/// checked before every guest call.
[[nodiscard]] inline std::uintptr_t native_stack_low() noexcept {
  thread_local NativeStackBounds bounds;
  if (!bounds.read) [[unlikely]] {
    bounds = read_native_stack_bounds();
  }
  return bounds.low;
}

/// Bytes between the caller's frame and the lowest usable address of this
/// thread's stack; nullopt when the thread's stack bounds cannot be read.
/// Inline: it runs before every guest call.
[[nodiscard]] inline std::optional<std::size_t> native_stack_left() noexcept {
  const std::uintptr_t low = native_stack_low();
  const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  if (low == 0 || here < low) {
    return std::nullopt;
  }
  return here - low;
}

}  // namespace wasmplug::detail
