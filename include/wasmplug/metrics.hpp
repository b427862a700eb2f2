// wasmplug — metrics: a small sink interface the host can implement, and a
// built-in sink that renders the Prometheus text exposition format.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug {

/// One finished call, as seen by the Runtime or a Registry slot.
struct CallEvent {
  std::string_view plugin;           ///< plugin (slot) name
  Hook hook;
  /// Runtime and Session calls: from where the call's deadline clock starts
  /// (a fresh call: its instance being made; a warm or session call: the
  /// leased instance being entered) to the result back in the host; 0 for a
  /// call refused before any instance was entered (prechecks, PoolSaturated).
  std::chrono::nanoseconds duration;
  const Error* error = nullptr;      ///< null on success
  /// What resolve() returned for this plugin and hook (resolved once per
  /// plugin version, then cached by the runtime); null if the sink has none.
  void* series = nullptr;
};

/// Receives runtime events. Called on the calling threads, concurrently:
/// implementations must be thread-safe, fast, and must not throw or call back
/// into the runtime. Virtual because hosts bring their own (a test fake, a
/// bridge to their metrics library) beside the built-in PrometheusMetrics.
class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  /// Optional: a handle for the (plugin, hook) series, passed back in every
  /// CallEvent so that on_call needs no lookup. Must stay valid as long as the
  /// sink. Default: none.
  virtual void* resolve(std::string_view /*plugin*/, Hook /*hook*/) noexcept { return nullptr; }
  virtual void on_call(const CallEvent& event) noexcept = 0;
  /// A new instance was created for `plugin` (fresh call or pool growth).
  virtual void on_instantiate(std::string_view plugin) noexcept = 0;
  /// A call found no instance slot (PoolSaturated).
  virtual void on_pool_saturated(std::string_view plugin) noexcept = 0;
  /// A registry slot switched versions (register, rollback).
  virtual void on_swap(std::string_view slot) noexcept = 0;
  /// A registry slot answered with its failure-policy fallback (fail-open).
  virtual void on_fallback(std::string_view slot, Hook hook) noexcept = 0;
};

/// Gauges read at render time (pool idle/busy); see PrometheusMetrics::add_gauges.
struct GaugeSample {
  std::string name;    ///< metric name, e.g. "wasmplug_pool_idle_instances"
  std::string plugin;  ///< label value
  double value = 0;
};

/// Built-in sink: per plugin and hook, calls, a call-duration histogram,
/// failures by error kind and phase, instantiations, pool saturation, swaps.
///
/// The histogram (wasmplug_call_duration_seconds, buckets 1 us .. 1 s) counts
/// every call, none sampled; each call's CallEvent::duration: from where the
/// call's deadline clock starts (a fresh call's instantiation included; a warm
/// call's lease and any wait for a pool slot not) to the result back in the
/// host, 0 for calls refused before an instance was entered. Read with one
/// TSC read per call, the start being the one the deadline takes anyway.
/// Its count and wasmplug_calls_total are both the sum of its buckets.
///
/// Recording takes no lock and no locked instruction: each thread adds to a
/// cell of its own per series (a relaxed load and store), found through a
/// small thread-local cache keyed by a process-unique series id; render()
/// sums the cells. A thread's counts stay when it exits (its cells go back to
/// the series for the next new thread). Memory per series: at most 64 cells
/// of 128 bytes, one per thread recording at the same time (threads past 64
/// share one more, written with fetch_add). Series are found without a lock
/// in a fixed table; only the first event of a new plugin/hook pair, and a
/// thread's first event on a series, take a mutex. Label values are plugin
/// names and fixed enums; past `max_series` distinct plugin/hook pairs, events
/// are counted under plugin="_overflow".
class PrometheusMetrics final : public MetricsSink {
 public:
  explicit PrometheusMetrics(std::size_t max_series = 1024);
  ~PrometheusMetrics() override;
  PrometheusMetrics(const PrometheusMetrics&) = delete;
  PrometheusMetrics& operator=(const PrometheusMetrics&) = delete;

  void* resolve(std::string_view plugin, Hook hook) noexcept override;
  void on_call(const CallEvent& event) noexcept override;
  void on_instantiate(std::string_view plugin) noexcept override;
  void on_pool_saturated(std::string_view plugin) noexcept override;
  void on_swap(std::string_view slot) noexcept override;
  void on_fallback(std::string_view slot, Hook hook) noexcept override;

  /// Adds a source of gauges evaluated by render() (e.g. Registry pool sizes).
  /// The source must stay valid until it is removed or this sink is destroyed.
  std::uint64_t add_gauges(std::function<std::vector<GaugeSample>()> source);
  void remove_gauges(std::uint64_t id);

  /// The text exposition format (version 0.0.4). Thread-safe.
  [[nodiscard]] std::string render() const;

  struct Series;

 private:
  Series* series(std::string_view plugin, std::uint8_t hook) noexcept;

  std::size_t capacity_;
  std::unique_ptr<std::atomic<Series*>[]> table_;
  std::mutex insert_mutex_;
  std::atomic<std::size_t> size_{0};
  mutable std::mutex gauges_mutex_;
  std::vector<std::pair<std::uint64_t, std::function<std::vector<GaugeSample>()>>> gauges_;
  std::uint64_t next_gauge_id_ = 1;
};

}  // namespace wasmplug
