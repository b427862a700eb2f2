// The one entry for a hook call: prechecks, isolation choice, metrics.
#pragma once

#include <cstdint>
#include <span>

#include "engine/engine.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

/// Runtime::prepare: one instance, initialisers only.
[[nodiscard]] Result<void> prepare(const Engine& engine, const Plugin& plugin);

[[nodiscard]] Result<Output> dispatch_call(const Engine& engine, const Plugin& plugin, Hook hook,
                                           std::span<const std::uint8_t> input);

}  // namespace wasmplug::detail
