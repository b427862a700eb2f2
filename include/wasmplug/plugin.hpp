// wasmplug — what a plugin is: limits, ABI profile, hooks, admission report,
// and the immutable Plugin handle that Runtime::load returns.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wasmplug {

namespace detail {
struct PluginCode;  // compiled module + instance-pre; engine-specific
}  // namespace detail

/// Hard limits of one plugin, checked at admission and enforced on every call.
/// Defaults follow the seed systems (cc-lb, Kestrel, rustcdc).
struct Limits {
  /// Linear memory may never grow past this (bytes; a multiple of 64 KiB).
  std::uint64_t memory_bytes = 16u << 20;
  /// Maximum elements of any table, declared or grown.
  std::uint32_t table_elements = 10'000;
  /// Wall-clock budget of one call (instantiation + init + hook), measured
  /// from the call's start with a real clock: the call never fails before it
  /// has run this long, and on an idle machine fails at most two epoch ticks
  /// (RuntimeConfig::epoch_tick) after: a call found past it gets one tick
  /// of grace, once, so that a call whose thread was descheduled across the
  /// deadline (a loaded host) finishes rather than failing for time it never
  /// ran. Host functions count against it. Time the calling thread spends
  /// descheduled counts too; see cpu_deadline.
  std::chrono::milliseconds deadline{50};
  /// CPU-time budget of one call: the calling thread's CPU time, checked at
  /// the same epoch ticks. nullopt = none. A host stall cannot fail a call
  /// under this budget, so pair it with a generous wall `deadline` when that
  /// is what you mean. Costs one clock_gettime syscall per call.
  std::optional<std::chrono::milliseconds> cpu_deadline;
  /// Fuel budget of one call; nullopt = unmetered. Needs RuntimeConfig::enable_fuel.
  std::optional<std::uint64_t> fuel;
  /// Largest input a call accepts, and largest output a guest may return.
  std::uint32_t max_input_bytes = 1u << 20;
  std::uint32_t max_output_bytes = 1u << 20;
  /// Distinct counter names a plugin version may create through guest
  /// metrics (rustcdc record_metric); a new name past it fails the call with
  /// LimitExceeded. 0..1,000,000.
  std::uint32_t max_guest_metrics = 1024;
  /// Total bytes of those names (each is at most 255 bytes); a new name
  /// past it fails the call with LimitExceeded. 0..256 MiB.
  std::uint32_t max_guest_metric_name_bytes = 64u << 10;
};

/// The contract a plugin is written to. Each profile is one adapter in src/abi/.
enum class AbiProfile : std::uint8_t {
  Native,   ///< wasmplug native ABI v1 (docs/abi.md)
  CcLb,     ///< cc-lb hooks (docs/profiles/cc-lb.md)
  Rustcdc,  ///< rustcdc transforms (docs/profiles/rustcdc.md)
  Kestrel,  ///< Kestrel predicates (docs/profiles/kestrel.md); see wasmplug/kestrel.hpp
};

/// How calls get an instance.
enum class Isolation : std::uint8_t {
  Fresh,  ///< a new instance per call; nothing carries over between calls
  Warm,   ///< a bounded pool of ready instances; guest state MAY persist between calls
};

/// Warm isolation: the pool of one plugin version.
struct PoolOptions {
  /// Most instances of this plugin alive at once (idle + busy). The Runtime's
  /// max_instances bounds all plugins together.
  std::uint32_t max_instances = 4;
  /// How long a call waits for an instance when all are busy; 0 = fail at
  /// once with PoolSaturated. Never unbounded.
  std::chrono::milliseconds acquire_timeout{0};
  /// Retire an instance after this many calls (0 = never).
  std::uint64_t recycle_after_calls = 0;
  /// Retire an instance whose memory grew past this many bytes (0 = never).
  std::uint64_t recycle_memory_bytes = 0;
};

/// Counters of a warm pool (all zero for fresh isolation).
struct PoolStats {
  std::uint32_t idle = 0;
  std::uint32_t busy = 0;
  std::uint64_t created = 0;    ///< instances made (each ran wp_init)
  std::uint64_t discarded = 0;  ///< instances dropped after a failed call
  std::uint64_t retired = 0;    ///< instances shut down (recycling, pool destroyed)
  std::uint64_t saturated = 0;  ///< calls refused with PoolSaturated
};

/// The entry points a host can call.
enum class Hook : std::uint8_t {
  Filter,     ///< keep or drop the input
  Transform,  ///< produce new bytes, or drop
  Observe,    ///< side effects only
};

[[nodiscard]] std::string_view to_string(AbiProfile abi) noexcept;
[[nodiscard]] std::string_view to_string(Hook hook) noexcept;
[[nodiscard]] std::string_view to_string(Isolation isolation) noexcept;
/// Parses "filter" / "transform" / "observe"; nullopt otherwise.
[[nodiscard]] std::optional<Hook> parse_hook(std::string_view name) noexcept;

/// One import or export as the module declares it.
struct ExternInfo {
  std::string module;     ///< import module; empty for exports
  std::string name;
  std::string kind;       ///< "func", "memory", "table", "global"
  std::string signature;  ///< e.g. "(i32, i32) -> i64", "memory 2..256 pages"
};

/// What admission found out about a module. Complete even when rejected:
/// `problems` then lists every reason, one sentence each.
struct AdmissionReport {
  AbiProfile abi = AbiProfile::Native;
  std::optional<std::uint32_t> abi_version;  ///< from the ABI marker export
  std::vector<Hook> hooks;                   ///< hooks the module exports
  bool has_init = false;                     ///< exports wp_init
  bool has_shutdown = false;                 ///< exports wp_shutdown
  std::vector<ExternInfo> imports;
  std::vector<ExternInfo> exports;
  std::uint64_t memory_min_pages = 0;
  std::optional<std::uint64_t> memory_max_pages;
  std::uint64_t largest_table_elements = 0;
  bool has_start_function = false;
  /// The wasi_snapshot_preview1 functions the module imports, in import
  /// order (LoadOptions::wasi decides whether they are allowed).
  std::vector<std::string> wasi_functions;
  std::string content_hash;           ///< hex SHA-256 (see Plugin::content_hash)
  std::vector<std::string> problems;  ///< empty = admitted

  [[nodiscard]] bool admitted() const noexcept { return problems.empty(); }
  [[nodiscard]] bool exports_hook(Hook hook) const noexcept;
};

/// Grants a plugin one of the embedder's host functions
/// (RuntimeConfig::host_functions), by module and name.
struct HostFunctionGrant {
  std::string module;
  std::string name;
  friend bool operator==(const HostFunctionGrant&, const HostFunctionGrant&) = default;
};

/// What to load and under which rules.
struct LoadOptions {
  std::string name = "plugin";  ///< used in errors, logs and metrics
  Limits limits;
  AbiProfile abi = AbiProfile::Native;
  std::vector<std::uint8_t> config;  ///< handed to wp_init, when exported
  Isolation isolation = Isolation::Fresh;
  PoolOptions pool;  ///< used with Isolation::Warm
  /// Embedder host functions this plugin may import (capabilities; none by
  /// default). Admission rejects an import of any other embedder function.
  /// A grant naming no registered function, or one twice, is InvalidArgument.
  std::vector<HostFunctionGrant> host_functions;
  /// Lets the plugin import wasmplug's WASI preview1 capability set
  /// (docs/security/wasi.md): fd_write to fds 1/2 into the plugin's log,
  /// clocks, random, empty args/environ, sched_yield, clock-only poll_oneoff,
  /// proc_exit, and "no preopens" answers. Nothing reaches files, sockets or
  /// the host's environment. Off (default): any WASI import is Rejected at
  /// admission; on or off, a WASI function outside the set is Rejected, named.
  /// Needed by Go (GOOS=wasip1) and Rust wasm32-wasip1 plugins, and C plugins
  /// that use stdio.
  bool wasi = false;
  /// Hooks the host will call: admission rejects a module that does not
  /// export one of them (Rejected, phase Admit, naming the missing export),
  /// instead of admitting it and failing at call time (e.g. a cc-lb slot's
  /// kind). A hook the profile has no export for is InvalidArgument.
  /// Empty: any one hook of the profile will do.
  std::vector<Hook> required_hooks;
};

/// An admitted, compiled plugin. Immutable and thread-safe: share it with
/// std::shared_ptr<const Plugin>; any number of threads may call it at once.
/// Whoever holds a reference can finish a call, even after the plugin was
/// replaced elsewhere. A Plugin keeps the engine it was compiled for alive, so
/// it may outlive the Runtime that loaded it; its warm instances (if any) are
/// shut down when the last reference goes.
class Plugin {
 public:
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;
  ~Plugin();

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Unique per Runtime and load; increases with each new load.
  [[nodiscard]] std::uint64_t version_id() const noexcept { return version_id_; }
  /// Hex SHA-256 over the wasm bytes, limits, ABI, config and the admission
  /// policy version: equal hashes mean identical behaviour.
  [[nodiscard]] const std::string& content_hash() const noexcept { return report_.content_hash; }
  [[nodiscard]] const AdmissionReport& report() const noexcept { return report_; }
  [[nodiscard]] const Limits& limits() const noexcept { return limits_; }
  [[nodiscard]] AbiProfile abi() const noexcept { return report_.abi; }
  [[nodiscard]] const std::vector<std::uint8_t>& config() const noexcept { return config_; }
  [[nodiscard]] bool has_hook(Hook hook) const noexcept { return (hooks_ >> static_cast<unsigned>(hook)) & 1u; }
  [[nodiscard]] Isolation isolation() const noexcept { return isolation_; }
  [[nodiscard]] const PoolOptions& pool_options() const noexcept { return pool_; }
  /// A snapshot of the warm pool's counters (zeros for fresh isolation).
  [[nodiscard]] PoolStats pool_stats() const noexcept;
  /// A snapshot of the counters the guest keeps through host functions
  /// (rustcdc get_metric/record_metric); empty for other profiles.
  [[nodiscard]] std::map<std::string, std::int64_t> guest_metrics() const;

  /// Engine-specific part; for the library's own use.
  [[nodiscard]] const detail::PluginCode& code() const noexcept { return *code_; }

  /// Constructed by Runtime::load only.
  Plugin(std::string name, std::uint64_t version_id, const LoadOptions& options, AdmissionReport report,
         std::unique_ptr<const detail::PluginCode> code);

 private:
  std::string name_;
  std::uint64_t version_id_;
  Limits limits_;
  std::vector<std::uint8_t> config_;
  Isolation isolation_;
  PoolOptions pool_;
  AdmissionReport report_;
  std::uint8_t hooks_ = 0;  // bit per Hook, from report_.hooks
  // Last member: destroyed first, while the fields above (name, limits) are
  // still valid for the warm instances it shuts down.
  std::unique_ptr<const detail::PluginCode> code_;
};

}  // namespace wasmplug
