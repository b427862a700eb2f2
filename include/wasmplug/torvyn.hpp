// wasmplug — the torvyn profile (docs/profiles/torvyn.md): WebAssembly
// components of the WIT package torvyn:streaming@0.1.0 — processors, sources
// and sinks of a stream, called one element at a time.
//
// Runtime::load_component admits and compiles a component for one world;
// Component::instantiate makes an Instance (its own store, buffers and
// limits) that an embedder drives: process / pull / push / complete, with
// lifecycle init at creation and teardown at the end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"

struct wasmplug_tv_outcome;  // src/component/torvyn_ffi.h

namespace wasmplug {
class MetricsSink;
namespace detail {
class Engine;
class ModuleCache;
struct ComponentCode;
struct TorvynInstanceState;
}  // namespace detail
}  // namespace wasmplug

namespace wasmplug::torvyn {

/// The four worlds of torvyn:streaming@0.1.0.
enum class World : std::uint8_t {
  Transform,         ///< imports types, buffer-allocator; exports processor
  ManagedTransform,  ///< ... exports processor, lifecycle
  DataSource,        ///< ... exports source, lifecycle
  DataSink,          ///< imports types; exports sink, lifecycle
};
[[nodiscard]] std::string_view to_string(World world) noexcept;
/// "transform", "managed-transform", "data-source", "data-sink"; nullopt otherwise.
[[nodiscard]] std::optional<World> parse_world(std::string_view name) noexcept;
/// True for the worlds that export lifecycle (init / teardown).
[[nodiscard]] bool has_lifecycle(World world) noexcept;

/// The cases of the WIT `process-error` variant.
enum class ProcessErrorCase : std::uint8_t { InvalidInput, Unavailable, Internal, DeadlineExceeded, Fatal };
[[nodiscard]] std::string_view to_string(ProcessErrorCase c) noexcept;

/// Host-memory buffers (the `types` resources) of one instance.
struct BufferLimits {
  /// Largest capacity of one buffer (allocate, append, write, clone).
  /// 1 B..16 MiB (torvyn's cap); past it the guest gets `capacity-exceeded`.
  std::uint64_t max_buffer_bytes = 16u << 20;
  /// Bytes all live buffers of one instance hold together (each buffer costs
  /// its capacity plus 64 bytes). 4 KiB..4 GiB. Past it allocate / append /
  /// write / clone-into-mutable return `allocation-failed` naming the budget.
  /// Input buffers the host lends for one call do not count.
  std::uint64_t budget_bytes = 32u << 20;
};

/// What the runtime does with `process-error` results (torvyn's policies).
struct ErrorPolicy {
  /// After this many consecutive `unavailable` errors an instance's circuit
  /// breaker opens: calls fail with Tripped, without entering the guest,
  /// for `breaker_cooldown`; then one call is let through (half-open). 0 = no breaker.
  std::uint32_t breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{1000};
};

/// What to load and under which rules.
struct ComponentOptions {
  std::string name = "component";  ///< used in errors, logs and metrics
  World world = World::Transform;
  /// memory_bytes (all linear memories of an instance together),
  /// table_elements, deadline (per call, wall clock), cpu_deadline (per
  /// call, the calling thread's CPU time, checked at the epoch ticks; 1 ms..1 h
  /// or none), fuel (per call), max_input_bytes (an element's payload),
  /// max_output_bytes (an emitted payload). The guest-metrics fields do not
  /// apply.
  Limits limits;
  BufferLimits buffers;
  ErrorPolicy errors;
  /// Passed to lifecycle.init when an instance is created (worlds with
  /// lifecycle). JSON recommended by torvyn; any UTF-8 text.
  std::string config;
  /// Grants WASI 0.2 (off by default: any `wasi:` import is Rejected). On:
  /// the component may import the WASI 0.2 interfaces Wasmtime's own
  /// implementation (wasmtime-wasi, p2) provides, scoped: no files (no
  /// preopens), no environment, no arguments, empty stdin, no network
  /// (TCP, UDP and name lookup denied); clocks and random allowed (a clock
  /// wait ends by the call's deadline; at most 1 MiB of random per request).
  /// stdout and stderr become the component's log records (Info, one per
  /// line) under RuntimeConfig::max_log_bytes_per_call / _lines_per_call.
  /// Other imports are still refused naming the item.
  bool wasi = false;
};

/// What admission found out about a component. Complete even when rejected.
struct ComponentReport {
  World world = World::Transform;
  std::vector<ExternInfo> imports;  ///< name and kind ("instance", "func", ...)
  std::vector<ExternInfo> exports;
  std::string content_hash;           ///< hex SHA-256 of the component bytes
  std::vector<std::string> problems;  ///< empty = admitted
  [[nodiscard]] bool admitted() const noexcept { return problems.empty(); }
};

/// An element handed to a component (process, push). Views: valid for the call.
struct Element {
  std::span<const std::uint8_t> payload;
  std::string_view content_type;
  std::uint64_t sequence = 0;
  std::uint64_t timestamp_ns = 0;
  /// 32 lowercase hex digits (W3C trace-context) or empty; anything else
  /// fails the call with InvalidArgument (phase Write) before the guest runs.
  std::string_view trace_id;
  std::string_view span_id;  ///< 16 lowercase hex digits or empty (as trace_id)
  std::string_view flow_id;
  /// Absolute deadline of the element, CLOCK_MONOTONIC ns; 0 = none. The
  /// guest's flow-context.deadline-ns reports what remains of it.
  std::uint64_t deadline_ns = 0;
};

/// An element a component emitted (process → emit, pull → some). The views
/// point into the instance and are valid until its next call or destruction.
struct EmittedView {
  std::span<const std::uint8_t> payload;
  std::string_view content_type;
  std::uint64_t sequence = 0;      ///< advisory: the runtime assigns sequence numbers
  std::uint64_t timestamp_ns = 0;  ///< advisory
};

/// An owned copy of an EmittedView.
struct Emitted {
  std::vector<std::uint8_t> payload;
  std::string content_type;
  std::uint64_t sequence = 0;
  std::uint64_t timestamp_ns = 0;
  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

enum class Backpressure : std::uint8_t { Ready, Pause };

/// Memory of one instance.
struct MemoryUsage {
  std::uint64_t linear_memory_bytes = 0;  ///< all its linear memories
  std::uint64_t buffer_bytes = 0;         ///< charged to the buffer budget now
  std::uint64_t buffer_budget_bytes = 0;
  std::uint64_t budget_denials = 0;       ///< buffer requests refused by the budget
};

/// Counters of one Instance.
struct InstanceStats {
  std::uint64_t calls = 0;           ///< guest calls made (process/pull/push/complete/...)
  std::uint64_t failures = 0;        ///< calls that failed (any error)
  std::uint64_t skipped = 0;         ///< invalid-input and internal errors (the element is skipped)
  std::uint64_t unavailable = 0;     ///< unavailable errors
  std::uint64_t timeouts = 0;        ///< deadline-exceeded errors and Timeout traps
  std::uint64_t restarts = 0;        ///< re-instantiations after a trap
  std::uint64_t breaker_trips = 0;   ///< calls refused by the open circuit breaker
};

class Instance;

/// An admitted, compiled component for one world. Immutable and thread-safe:
/// share it as std::shared_ptr<const Component>; instantiate from any thread.
/// Keeps the engine alive, so it may outlive the Runtime (but an Instance
/// needs the Runtime's epoch ticker for deadlines: keep the Runtime alive
/// while instances run).
class Component : public std::enable_shared_from_this<Component> {
 public:
  ~Component();
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return options_.name; }
  [[nodiscard]] World world() const noexcept { return options_.world; }
  [[nodiscard]] const ComponentOptions& options() const noexcept { return options_; }
  [[nodiscard]] const ComponentReport& report() const noexcept { return report_; }
  [[nodiscard]] const std::string& content_hash() const noexcept { return report_.content_hash; }

  /// The compiled code, for Runtime::deserialize_component (same Wasmtime
  /// version and engine settings only).
  [[nodiscard]] Result<std::vector<std::uint8_t>> serialize() const;

  /// A new instance: its own store, resource table and limits; runs
  /// lifecycle.init(options().config) for worlds with lifecycle. Errors:
  /// InstantiateFailed, PoolSaturated (no instance slot), the init call's
  /// error (phase Init: an error keeps the component out of the pipeline).
  [[nodiscard]] Result<std::unique_ptr<Instance>> instantiate() const;

  /// For the library's own use.
  [[nodiscard]] const detail::ComponentCode& code() const noexcept { return *code_; }
  Component(ComponentOptions options, ComponentReport report, std::unique_ptr<detail::ComponentCode> code);

 private:
  ComponentOptions options_;
  ComponentReport report_;
  std::unique_ptr<detail::ComponentCode> code_;
};

/// One live instance of a component. Not thread-safe: one thread at a time
/// (it may move between threads); use one instance per thread for
/// parallelism. Each call carries the component's deadline and fuel.
///
/// Errors of a call: a `process-error` from the guest is GuestError (phase
/// Call) with the case first in the message ("invalid-input: ...") and in
/// last_process_error(); deadline-exceeded is Timeout. After `fatal` the
/// instance is torn down (teardown called once, best effort) and every later
/// call fails with GuestError without entering the guest. A trap (Trap,
/// Timeout, OutOfFuel, MemoryLimit) discards the guest instance; the next
/// call gets a new one (init runs again) and stats().restarts counts it.
/// Guest state does not survive a trap.
class Instance {
 public:
  ~Instance();  ///< runs teardown (best effort) if not yet done
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  /// processor.process (transform, managed-transform). nullopt: dropped.
  [[nodiscard]] Result<std::optional<EmittedView>> process_view(const Element& element);
  [[nodiscard]] Result<std::optional<Emitted>> process(const Element& element);
  /// source.pull (data-source). nullopt: exhausted for now (poll again later).
  [[nodiscard]] Result<std::optional<EmittedView>> pull_view();
  [[nodiscard]] Result<std::optional<Emitted>> pull();
  /// source.notify-backpressure (data-source).
  [[nodiscard]] Result<void> notify_backpressure(Backpressure signal);
  /// sink.push (data-sink): Pause = accepted, slow upstream down.
  [[nodiscard]] Result<Backpressure> push(const Element& element);
  /// sink.complete (data-sink): flush.
  [[nodiscard]] Result<void> complete();
  /// lifecycle.teardown, once; later calls fail. A failing teardown is
  /// logged (to the runtime's log sink) and returned, never retried.
  [[nodiscard]] Result<void> teardown();

  /// Fuel every later call starts with (replaces Limits::fuel for this
  /// instance). InvalidArgument when RuntimeConfig::enable_fuel is off.
  [[nodiscard]] Result<void> set_fuel(std::uint64_t fuel);
  /// Fuel left after the last call. InvalidArgument when fuel is off.
  [[nodiscard]] Result<std::uint64_t> fuel_remaining() const;
  [[nodiscard]] MemoryUsage memory_usage() const noexcept;
  [[nodiscard]] InstanceStats stats() const noexcept;
  /// The case of the last call's process-error, if it returned one.
  [[nodiscard]] std::optional<ProcessErrorCase> last_process_error() const noexcept;
  /// False after fatal or teardown: the instance takes no more calls.
  [[nodiscard]] bool usable() const noexcept;
  [[nodiscard]] const Component& component() const noexcept { return *component_; }

  /// Made by Component::instantiate.
  Instance(std::shared_ptr<const Component> component, std::unique_ptr<detail::TorvynInstanceState> state);

 private:
  friend class Component;
  [[nodiscard]] Result<void> notify_ready();
  [[nodiscard]] Result<void> ensure_instance();
  [[nodiscard]] Result<void> check_input(const Element& element, std::string_view hook) const;
  template <class Call>
  [[nodiscard]] Result<const wasmplug_tv_outcome*> guest_call(std::string_view hook, Call&& call);
  [[nodiscard]] Result<const wasmplug_tv_outcome*> classify(std::string_view hook);
  [[nodiscard]] Result<void> teardown_now();
  void drop_guest_instance() noexcept;

  std::shared_ptr<const Component> component_;
  std::unique_ptr<detail::TorvynInstanceState> state_;
};

/// Hot-swap for components: the current version of a component under one
/// name. swap() and rollback() replace it at once; instances already made
/// keep running on the version they were made from (an Instance holds its
/// Component), so a stage that wants the new version compares version()
/// with the one it instantiated (one atomic load per check) and makes a new
/// instance. Thread-safe.
class ComponentSlot {
 public:
  /// InvalidArgument when `initial` is null.
  [[nodiscard]] static Result<std::unique_ptr<ComponentSlot>> create(std::shared_ptr<const Component> initial);

  [[nodiscard]] std::shared_ptr<const Component> current() const;
  /// Starts at 1; increases with every swap and rollback.
  [[nodiscard]] std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }
  /// Makes `next` current (the old one becomes the rollback target); returns
  /// the new version. InvalidArgument when `next` is null or of another world.
  [[nodiscard]] Result<std::uint64_t> swap(std::shared_ptr<const Component> next);
  /// Makes the previous component current again. InvalidArgument when there is none.
  [[nodiscard]] Result<std::uint64_t> rollback();
  /// An instance of the current component, and the version it belongs to.
  [[nodiscard]] Result<std::pair<std::unique_ptr<Instance>, std::uint64_t>> instantiate() const;

 private:
  explicit ComponentSlot(std::shared_ptr<const Component> initial);
  mutable std::mutex mutex_;
  std::shared_ptr<const Component> current_;
  std::shared_ptr<const Component> previous_;
  std::atomic<std::uint64_t> version_{1};
};

}  // namespace wasmplug::torvyn
