// Compile cost: bounds on what compiling a module may cost, checked before
// the engine compiles anything (Wasmtime's compiler has no time or memory
// bound of its own).
#pragma once

#include <cstdint>
#include <span>

#include "wasmplug/error.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

/// Refuses (Rejected, phase Admit) a module over any of `limits`, naming the
/// limit and the function. A module that cannot be parsed passes: the engine
/// then rejects it with its own, better message.
[[nodiscard]] Result<void> check_compile_cost(std::span<const std::uint8_t> wasm, const CompileLimits& limits);

}  // namespace wasmplug::detail
