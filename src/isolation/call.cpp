#include "isolation/call.hpp"

#include <chrono>
#include <optional>
#include <string>

#include "isolation/fresh.hpp"
#include "isolation/session.hpp"
#include "isolation/warm_pool.hpp"
#include "instance/instance.hpp"
#include "instance/plugin_code.hpp"

namespace wasmplug::detail {

namespace {

// Prechecks that touch no instance; an Error here leaves every instance as it was.
[[gnu::noinline]] std::optional<Error> refuse(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input);

// The two tests inline, the error out of line (dispatch_call stays small).
inline std::optional<Error> precheck(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input) {
  if (plugin.has_hook(hook) && input.size() <= plugin.limits().max_input_bytes) [[likely]] {
    return std::nullopt;
  }
  return refuse(plugin, hook, input);
}

std::optional<Error> refuse(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input) {
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

// Prechecks, then `isolated` (the isolation strategy), inlined into its caller.
template <class Isolated>
[[gnu::always_inline]] inline Result<Output> checked_call(const Plugin& plugin, Hook hook,
                                                          std::span<const std::uint8_t> input, Isolated& isolated) {
  if (auto refused = precheck(plugin, hook, input)) [[unlikely]] {
    return std::move(*refused);
  }
  return isolated();
}

// checked_call, measured for the metrics sink when there is one. Refused
// calls are counted like any other. The duration starts where the call's
// deadline clock starts (call_started_ticks, set by Instance::begin_call), so
// metering adds one TSC read, not two: a fresh call's instantiation counts, a
// warm call's lease or wait for a pool slot does not, and a call that never
// began (refused, PoolSaturated) lasted 0.
template <class Isolated>
Result<Output> measured_call(const Engine& engine, const Plugin& plugin, Hook hook,
                             std::span<const std::uint8_t> input, Isolated&& isolated) {
  const auto& metrics = engine.config().metrics;
  if (!metrics) [[likely]] {
    return checked_call(plugin, hook, input, isolated);
  }
  auto& cached = plugin.code().metrics_series[static_cast<std::size_t>(hook)];
  void* series = cached.load(std::memory_order_acquire);
  if (series == nullptr) {
    series = metrics->resolve(plugin.name(), hook);
    cached.store(series, std::memory_order_release);
  }
  call_started_ticks = 0;
  Result<Output> out = checked_call(plugin, hook, input, isolated);
  const std::uint64_t end = CycleClock::ticks();
  const std::uint64_t start = call_started_ticks;
  metrics->on_call(CallEvent{plugin.name(), hook,
                             start != 0 ? engine.clock().between(start, end) : std::chrono::nanoseconds(0),
                             out.ok() ? nullptr : &out.error(), series});
  return out;
}

}  // namespace

Result<Output> dispatch_call(const Engine& engine, const Plugin& plugin, Hook hook,
                             std::span<const std::uint8_t> input, HostContext* context) {
  // The isolation strategy is called directly from here (one hop: the lambda
  // is always inlined, also where measured_call calls it twice).
  return measured_call(engine, plugin, hook, input, [&]() __attribute__((always_inline)) -> Result<Output> {
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
