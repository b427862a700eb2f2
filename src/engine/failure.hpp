// Turning Wasmtime's two failure channels (wasmtime_error_t, wasm_trap_t)
// into one value we can classify.
#pragma once

#include <optional>
#include <string>

#include <wasmtime.h>

namespace wasmplug::detail {

struct Failure {
  std::string message;
  std::optional<wasmtime_trap_code_t> trap_code;  ///< set for traps with a code
};

/// Takes ownership of `error` and `trap` (either may be null) and returns
/// their message and trap code.
[[nodiscard]] Failure take_failure(wasmtime_error_t* error, wasm_trap_t* trap);

/// Message of `error`, which is deleted.
[[nodiscard]] std::string take_message(wasmtime_error_t* error);

}  // namespace wasmplug::detail
