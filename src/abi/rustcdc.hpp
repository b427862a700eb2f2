// The rustcdc transform profile (docs/profiles/rustcdc.md), from the rustcdc
// WASM Transform SDK.
#pragma once

#include "abi/abi.hpp"

namespace wasmplug::detail::rustcdc {

/// Indices into spec().exports.
enum Export : std::size_t { kAlloc, kTransform, kOutputLen, kInit, kShutdown, kInitialize };

[[nodiscard]] const AbiSpec& spec();
[[nodiscard]] Result<void> initialize(Instance& instance);
[[nodiscard]] Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input);
[[nodiscard]] Result<void> shutdown(Instance& instance);

}  // namespace wasmplug::detail::rustcdc
