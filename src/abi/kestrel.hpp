// The Kestrel predicate profile (docs/profiles/kestrel.md), from the Kestrel
// Wasm runtime seed: pred_eval() reads the event through host functions.
#pragma once

#include "abi/abi.hpp"

namespace wasmplug::detail::kestrel_abi {

enum Export : std::size_t { kPredEval, kInitialize };

[[nodiscard]] const AbiSpec& spec();
[[nodiscard]] Result<void> initialize(Instance& instance);
/// Hook::Filter is pred_eval: 1 → Keep (match), 0 → Drop (no match).
[[nodiscard]] Result<Output> invoke(Instance& instance, Hook hook);

}  // namespace wasmplug::detail::kestrel_abi
