// How much native stack the calling thread has left. Wasm runs on the
// caller's stack: Wasmtime stops a guest after RuntimeConfig::max_wasm_stack
// bytes, measured from where the call entered wasm, and host functions the
// guest calls run below that. A thread with less stack than that would fault
// (SIGSEGV) before Wasmtime's own check fires, so calls check first.
#pragma once

#include <cstddef>
#include <optional>

namespace wasmplug::detail {

/// Native stack a host function may use below the guest's deepest frame.
inline constexpr std::size_t kHostStackHeadroom = 256u << 10;

/// Bytes between the caller's frame and the lowest usable address of this
/// thread's stack; nullopt when the thread's stack bounds cannot be read.
/// The bounds are read once per thread (pthread_getattr_np) and cached.
[[nodiscard]] std::optional<std::size_t> native_stack_left() noexcept;

}  // namespace wasmplug::detail
