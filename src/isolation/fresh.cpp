#include "isolation/fresh.hpp"

#include <string>

#include "abi/abi.hpp"
#include "abi/invoke.hpp"
#include "instance/instance.hpp"

namespace wasmplug::detail {

Result<ReadyInstance> make_ready_instance(const Engine& engine, const Plugin& plugin, std::optional<Hook> hook) {
  const auto& metrics = engine.config().metrics;
  if (!engine.slots().try_acquire()) {
    if (metrics) {
      metrics->on_pool_saturated(plugin.name());
    }
    return Error{ErrorKind::PoolSaturated, Phase::Instantiate, plugin.name(),
                 hook ? std::string(to_string(*hook)) : std::string{},
                 "all " + std::to_string(engine.slots().capacity()) + " instance slots of the runtime are in use"};
  }
  ReadyInstance ready{SlotLease(&engine.slots()), nullptr};
  auto instance = Instance::create(engine, plugin, hook);
  if (!instance) {
    return std::move(instance).error();
  }
  if (metrics) {
    metrics->on_instantiate(plugin.name());
  }
  // A failing initialiser rejects this instance; its error (with the guest's
  // message) goes to the caller.
  if (auto init = abi_initialize(**instance); !init) {
    return std::move(init).error();
  }
  ready.instance = std::move(instance).value();
  return ready;
}

Result<Output> call_fresh(const Engine& engine, const Plugin& plugin, Hook hook,
                          std::span<const std::uint8_t> input, HostContext* context) {
  auto ready = make_ready_instance(engine, plugin, hook);
  if (!ready) {
    return std::move(ready).error();
  }
  ready->instance->state().host_context = context;
  return abi_invoke(*ready->instance, hook, input);
}

}  // namespace wasmplug::detail
