// The native wasmplug ABI v1 (docs/abi.md).
#pragma once

#include "abi/abi.hpp"

namespace wasmplug::detail::native {

/// Indices into native_spec().exports.
enum Export : std::size_t { kAlloc, kFree, kInitialize, kInit, kShutdown, kFilter, kTransform, kObserve };

/// Alignment the host asks of wp_alloc for every buffer it passes in.
inline constexpr std::uint32_t kInputAlign = 16;

[[nodiscard]] const AbiSpec& spec();
[[nodiscard]] Result<void> initialize(Instance& instance);
[[nodiscard]] Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input);
[[nodiscard]] Result<void> shutdown(Instance& instance);

}  // namespace wasmplug::detail::native
