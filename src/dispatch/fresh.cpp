#include "dispatch/fresh.hpp"

#include <string>

#include "abi/abi.hpp"
#include "dispatch/instance.hpp"

namespace wasmplug::detail {

Result<Output> call_fresh(const Engine& engine, const Plugin& plugin, Hook hook,
                          std::span<const std::uint8_t> input, HostContext* context) {
  if (!engine.slots().try_acquire()) {
    if (const auto& metrics = engine.config().metrics) {
      metrics->on_pool_saturated(plugin.name());
    }
    return Error{ErrorKind::PoolSaturated, Phase::Instantiate, plugin.name(), std::string(to_string(hook)),
                 "all " + std::to_string(engine.slots().capacity()) + " instance slots are in use"};
  }
  SlotLease lease(&engine.slots());

  auto instance = Instance::create(engine, plugin, hook);
  if (!instance) {
    return std::move(instance).error();
  }
  if (const auto& metrics = engine.config().metrics) {
    metrics->on_instantiate(plugin.name());
  }
  if (auto init = abi_initialize(**instance); !init) {
    return std::move(init).error();
  }
  (*instance)->state().host_context = context;
  return abi_invoke(**instance, hook, input);
}

}  // namespace wasmplug::detail
