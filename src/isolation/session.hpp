// SessionCore — the instance behind a public Session (Runtime::open_session):
// one warm instance of a plugin owned by one holder instead of leased from
// the plugin's pool, so that the guest's state belongs to that holder alone
// (a pipeline keeps one per Kafka partition).
//
// Made and wp_init'ed when opened (init errors show there); a call that
// leaves the instance unfit (the same judgement as the pool's:
// kept_call.hpp) discards it and the next call makes a new one; on
// destruction a healthy instance goes to the engine's Retirer, which runs
// its wp_shutdown on its own thread. It holds a slot of the runtime's
// instance budget (RuntimeConfig::max_instances) all the while, outside the
// plugin's pool (PoolOptions do not apply). A fresh-isolation plugin keeps
// no instance: every call is a fresh call. Not thread-safe: one call at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "isolation/fresh.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Engine;

class SessionCore {
 public:
  /// PoolSaturated when the runtime has no instance slot left; the
  /// instantiation or initialiser error otherwise.
  [[nodiscard]] static Result<std::unique_ptr<SessionCore>> open(const Engine& engine,
                                                                 std::shared_ptr<const Plugin> plugin);
  ~SessionCore();
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;

  [[nodiscard]] const Plugin& plugin() const noexcept { return *plugin_; }
  /// The hook call, prechecks done by the caller (dispatch_session_call).
  [[nodiscard]] Result<Output> invoke(Hook hook, std::span<const std::uint8_t> input);
  [[nodiscard]] std::uint64_t instances_created() const noexcept { return created_; }

 private:
  SessionCore(const Engine& engine, std::shared_ptr<const Plugin> plugin);
  /// The kept instance, made and initialised first when there is none
  /// (`hook` only labels errors).
  [[nodiscard]] Result<Instance*> instance(std::optional<Hook> hook);

  const Engine* engine_;
  std::shared_ptr<const Plugin> plugin_;
  std::optional<ReadyInstance> ready_;  // warm plugins; empty after a failed call until the next
  std::uint64_t created_ = 0;
};

}  // namespace wasmplug::detail
