#include "dispatch/fresh.hpp"

#include <string>

#include "abi/abi.hpp"
#include "dispatch/instance.hpp"

namespace wasmplug::detail {

Result<Output> call_fresh(const Engine& engine, const Plugin& plugin, Hook hook,
                          std::span<const std::uint8_t> input) {
  auto error = [&](ErrorKind kind, Phase phase, std::string message) {
    return Error{kind, phase, plugin.name(), std::string(to_string(hook)), std::move(message)};
  };
  if (!plugin.has_hook(hook)) {
    return error(ErrorKind::InvalidArgument, Phase::Call,
                 "the plugin does not export the " + std::string(to_string(hook)) + " hook");
  }
  if (input.size() > plugin.limits().max_input_bytes) {
    return error(ErrorKind::LimitExceeded, Phase::Write,
                 "input of " + std::to_string(input.size()) + " bytes exceeds the limit of " +
                     std::to_string(plugin.limits().max_input_bytes));
  }
  if (!engine.slots().try_acquire()) {
    return error(ErrorKind::PoolSaturated, Phase::Instantiate,
                 "all " + std::to_string(engine.slots().capacity()) + " instance slots are in use");
  }
  SlotLease lease(&engine.slots());

  auto instance = Instance::create(engine, plugin, hook);
  if (!instance) {
    return std::move(instance).error();
  }
  if (auto init = abi_initialize(**instance); !init) {
    return std::move(init).error();
  }
  return abi_invoke(**instance, hook, input, /*keep_instance=*/false);
}

}  // namespace wasmplug::detail
