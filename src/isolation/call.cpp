#include "isolation/call.hpp"

#include <chrono>
#include <optional>
#include <string>

#include "isolation/fresh.hpp"
#include "isolation/session.hpp"
#include "isolation/warm_pool.hpp"
#include "instance/plugin_code.hpp"

namespace wasmplug::detail {

namespace {

// Prechecks that touch no instance; an Error here leaves every instance as it was.
std::optional<Error> precheck(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input) {
  auto error = [&](ErrorKind kind, Phase phase, std::string message) {
    return Error{kind, phase, plugin.name(), std::string(to_string(hook)), std::move(message)};
  };
  if (!plugin.has_hook(hook)) [[unlikely]] {
    return error(ErrorKind::InvalidArgument, Phase::Call,
                 "the plugin does not export the " + std::string(to_string(hook)) + " hook");
  }
  if (input.size() > plugin.limits().max_input_bytes) [[unlikely]] {
    return error(ErrorKind::LimitExceeded, Phase::Write,
                 "input of " + std::to_string(input.size()) + " bytes exceeds the limit of " +
                     std::to_string(plugin.limits().max_input_bytes));
  }
  return std::nullopt;
}

}  // namespace

Result<void> prepare(const Engine& engine, const Plugin& plugin) {
  if (WarmPool* pool = plugin.code().pool.get()) {
    return pool->prewarm(plugin);
  }
  auto ready = make_ready_instance(engine, plugin, std::nullopt);
  if (!ready) {
    return std::move(ready).error();
  }
  return {};
}

namespace {

// Prechecks, then `isolated` (the isolation strategy, inlined), measured for
// the metrics sink. Refused calls are counted like any other.
template <class Isolated>
Result<Output> measured_call(const Engine& engine, const Plugin& plugin, Hook hook,
                             std::span<const std::uint8_t> input, Isolated&& isolated) {
  auto run = [&]() -> Result<Output> {
    if (auto refused = precheck(plugin, hook, input)) [[unlikely]] {
      return std::move(*refused);
    }
    return isolated();
  };
  const auto& metrics = engine.config().metrics;
  if (!metrics) {
    return run();
  }
  auto& cached = plugin.code().metrics_series[static_cast<std::size_t>(hook)];
  void* series = cached.load(std::memory_order_acquire);
  if (series == nullptr) {
    series = metrics->resolve(plugin.name(), hook);
    cached.store(series, std::memory_order_release);
  }
  const std::uint64_t start = CycleClock::ticks();
  Result<Output> out = run();
  metrics->on_call(CallEvent{plugin.name(), hook, engine.clock().between(start, CycleClock::ticks()),
                             out.ok() ? nullptr : &out.error(), series});
  return out;
}

}  // namespace

Result<Output> dispatch_call(const Engine& engine, const Plugin& plugin, Hook hook,
                             std::span<const std::uint8_t> input, HostContext* context) {
  // The isolation strategy is called directly from here (one hop; the
  // lambda is inlined).
  return measured_call(engine, plugin, hook, input, [&]() -> Result<Output> {
    if (WarmPool* pool = plugin.code().pool.get()) {
      return pool->call(plugin, hook, input, context);
    }
    return call_fresh(engine, plugin, hook, input, context);
  });
}

Result<Output> dispatch_session_call(const Engine& engine, SessionCore& session, Hook hook,
                                     std::span<const std::uint8_t> input) {
  return measured_call(engine, session.plugin(), hook, input, [&] { return session.invoke(hook, input); });
}

}  // namespace wasmplug::detail
