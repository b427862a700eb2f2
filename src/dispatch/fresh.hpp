// Fresh isolation: every call gets a new instance (pooling allocator +
// copy-on-write memory image), which is dropped when the call returns.
#pragma once

#include <cstdint>
#include <span>

#include "dispatch/call_state.hpp"
#include "engine/engine.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

[[nodiscard]] Result<Output> call_fresh(const Engine& engine, const Plugin& plugin, Hook hook,
                                        std::span<const std::uint8_t> input, HostContext* context);

}  // namespace wasmplug::detail
