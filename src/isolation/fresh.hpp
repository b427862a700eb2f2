// Fresh isolation: every call gets a new instance (pooling allocator +
// copy-on-write memory image), which is dropped when the call returns.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "instance/call_state.hpp"
#include "engine/engine.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Instance;

/// An initialised instance and the runtime-wide slot it occupies. The lease is
/// declared first, so it is returned after the instance is gone.
struct ReadyInstance {
  SlotLease lease;
  std::unique_ptr<Instance> instance;
};

/// The one way to make an instance: takes a slot of the runtime's budget
/// (PoolSaturated, reported to the metrics sink, when none is free),
/// instantiates (start function under the deadline), reports the
/// instantiation, and runs the ABI's initialisers (_initialize, wp_init ...).
/// `hook` labels errors; none for a prepare() canary.
[[nodiscard]] Result<ReadyInstance> make_ready_instance(const Engine& engine, const Plugin& plugin,
                                                        std::optional<Hook> hook);

[[nodiscard]] Result<Output> call_fresh(const Engine& engine, const Plugin& plugin, Hook hook,
                                        std::span<const std::uint8_t> input, HostContext* context);

}  // namespace wasmplug::detail
