// The cc-lb hook profile (docs/profiles/cc-lb.md), from the cc-lb seed runtime.
#pragma once

#include "abi/abi.hpp"

namespace wasmplug::detail::cc_lb {

/// Indices into spec().exports.
enum Export : std::size_t { kAlloc, kFree, kFilter, kShape, kObserve, kInitialize };

/// Alignment the host asks of cc_lb_alloc (rkyv's archive alignment).
inline constexpr std::uint32_t kInputAlign = 16;

[[nodiscard]] const AbiSpec& spec();
/// Runs the WASI reactor initialiser `_initialize` if exported (C/C++ guests);
/// the seed's Rust guests have none.
[[nodiscard]] Result<void> initialize(Instance& instance);
[[nodiscard]] Result<Output> invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input);

}  // namespace wasmplug::detail::cc_lb
