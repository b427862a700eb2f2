// wasmplug — the Registry: named slots whose plugin can be replaced under load.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/metrics.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug {

namespace detail {
template <class T>
class GuardedPtr;
}  // namespace detail

/// What a slot answers when its plugin fails.
enum class FailurePolicy : std::uint8_t {
  FailClosed,  ///< the error goes to the caller
  FailOpen,    ///< the input passes: transform returns it unchanged, filter keeps, observe is done
};
[[nodiscard]] std::string_view to_string(FailurePolicy policy) noexcept;

struct SlotOptions {
  /// Limits, ABI, config, isolation and pool of the version being registered.
  /// `load.name` is ignored: the plugin is named after the slot.
  LoadOptions load;
  FailurePolicy on_failure = FailurePolicy::FailClosed;
  /// After this many consecutive failed calls the slot trips: it stops calling
  /// the plugin and answers with its fallback (FailOpen) or a Tripped error
  /// (FailClosed) until a new version is registered or rolled back. 0 = never.
  std::uint32_t trip_after = 0;
  /// Before going live, create one instance of the new version (running its
  /// _initialize and wp_init) ...
  bool canary = false;
  /// ... and, if given, call the slot's hook with this input. A failing canary
  /// leaves the old version serving and returns the error.
  std::optional<std::vector<std::uint8_t>> canary_probe;
};

struct SlotInfo {
  std::string name;
  Hook kind = Hook::Filter;
  std::uint64_t version = 0;
  std::optional<std::uint64_t> previous_version;
  FailurePolicy on_failure = FailurePolicy::FailClosed;
  bool tripped = false;
  std::uint32_t consecutive_failures = 0;
};

/// Named slots, each with a hook kind fixed at first registration and a current
/// plugin version that is replaced by one atomic swap: calls already running
/// finish on the version they started with, new calls see the new one.
///
/// Thread-safety: call() may run on any number of threads; it takes no
/// registry-wide lock and writes no memory another core reads: the slot table
/// is an immutable snapshot and each slot's plugin a pointer, both read
/// through per-CPU reader counts (a grace period as in sleepable RCU).
/// register_plugin(), rollback() and remove() serialize among themselves on
/// one mutex and never block callers; each waits until the calls that may
/// still see the table or version it replaced have returned (at most one
/// call's deadline), then frees it. So a removed slot, and a version that is
/// neither current nor previous, release their plugin and warm instances as
/// soon as their calls in flight finish (the instances' wp_shutdown runs on
/// the runtime's retirer thread; Runtime::quiesce waits for it).
/// current(), info(), names() and pool_gauges() take the writers' mutex.
/// The Runtime must outlive the Registry. Do not call a Registry's writers
/// from a LogSink or MetricsSink running inside one of its calls.
class Registry {
 public:
  explicit Registry(Runtime& runtime);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Loads `wasm` and makes it the slot's current version; creates the slot on
  /// first use. Returns the live version id. Registering content identical to
  /// the current version (same content hash) changes nothing and returns the
  /// current version id. Errors: whatever load returns; InvalidArgument for a
  /// kind switch or a plugin without the kind's hook; the canary's error.
  [[nodiscard]] Result<std::uint64_t> register_plugin(std::string_view name, Hook kind,
                                                      std::span<const std::uint8_t> wasm,
                                                      const SlotOptions& options = {});

  /// Calls the slot's current version with the slot's hook, applying its
  /// failure policy. InvalidArgument if there is no such slot.
  [[nodiscard]] Result<Output> call(std::string_view name, std::span<const std::uint8_t> input) const;

  /// Makes the previous version current again (and the current one previous).
  [[nodiscard]] Result<std::uint64_t> rollback(std::string_view name);
  /// Removes the slot; calls in flight finish.
  [[nodiscard]] Result<void> remove(std::string_view name);

  [[nodiscard]] std::shared_ptr<const Plugin> current(std::string_view name) const;
  [[nodiscard]] std::optional<SlotInfo> info(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;

  /// Pool gauges of every slot's current version, for PrometheusMetrics::add_gauges.
  [[nodiscard]] std::vector<GaugeSample> pool_gauges() const;

 private:
  struct Slot;
  using SlotMap = std::map<std::string, std::shared_ptr<Slot>, std::less<>>;
  /// Under write_mutex_ (the table cannot change meanwhile).
  [[nodiscard]] Slot* find_locked(std::string_view name) const;
  /// Under write_mutex_: makes `next` the table, waits for readers of the
  /// old one, and frees it (and with it any slot only it held).
  void publish(std::shared_ptr<const SlotMap> next);
  [[nodiscard]] Result<Output> fallback(const Slot& slot, std::span<const std::uint8_t> input) const;
  /// Makes `next` the slot's version (under write_mutex_).
  void swap_in(Slot& slot, std::shared_ptr<const Plugin> next);

  Runtime* runtime_;
  std::unique_ptr<detail::GuardedPtr<const SlotMap>> slots_;
  mutable std::mutex write_mutex_;
};

}  // namespace wasmplug
