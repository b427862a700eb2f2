// wasmplug — the Runtime: one engine, one epoch ticker, admission and calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/host.hpp"
#include "wasmplug/metrics.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug {

namespace detail {
class Engine;
class SessionCore;
}  // namespace detail
namespace torvyn {
class Component;
struct ComponentOptions;
struct ComponentReport;
}  // namespace torvyn

/// Log levels of the guest `log` import (docs/abi.md).
enum class LogLevel : std::uint8_t { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4 };
[[nodiscard]] std::string_view to_string(LogLevel level) noexcept;

/// One line a guest logged. The views are valid only during the sink call.
struct LogRecord {
  std::string_view plugin;
  LogLevel level;
  std::string_view message;
};

/// Receives guest log lines. Called on the runtime's one log delivery thread,
/// never on a calling thread and never concurrently with itself, in the order
/// the records were produced (so per plugin and per call in order). A guest
/// call never waits for the sink: records wait in a bounded queue
/// (RuntimeConfig::log_queue_records); when it is full they are dropped and a
/// later record (plugin "wasmplug") says how many. The sink must not call
/// Runtime::quiesce or destroy the Runtime; an exception from it is swallowed.
/// Runtime::quiesce() waits until records produced so far were delivered.
using LogSink = std::function<void(const LogRecord&)>;

/// Bounds on what compiling one module may cost, checked by load and inspect
/// before the engine compiles anything: Wasmtime's compiler has no time or
/// memory bound of its own (1M tiny functions: minutes and GBs). A module over
/// any bound is Rejected, naming the bound. The defaults are far above what
/// compilers emit for plugins; at the defaults the worst module compiles in
/// seconds (docs/security.md has the measured figures).
struct CompileLimits {
  std::uint32_t max_functions = 20'000;        ///< functions the module defines
  std::uint32_t max_function_bytes = 512u << 10;  ///< size of one function body
  std::uint64_t max_code_bytes = 8u << 20;        ///< size of all function bodies together
  std::uint32_t max_locals = 10'000;           ///< locals one function declares
  std::uint64_t max_total_locals = 500'000;    ///< locals of all functions together
  std::uint32_t max_nesting = 1'000;           ///< block/loop/if nesting in one function
  std::uint32_t max_globals = 10'000;          ///< globals the module defines
};

/// On-disk cache of compiled code (docs/operating.md, "Compiled-code cache";
/// docs/security/cache.md). Off when `directory` is empty (the default).
/// Entries are keyed by the module's SHA-256 and every engine setting that
/// changes generated code; each is authenticated (HMAC-SHA-256 with a key
/// kept in the directory) before Wasmtime sees it. A missing, corrupt,
/// foreign or incompatible entry is a miss: the module is compiled and the
/// entry replaced. I/O problems never fail a load; they are logged once.
/// Admission always runs on the wasm bytes: the cache only skips compiling.
struct ModuleCacheConfig {
  /// Absolute path of the cache directory (created 0700 when missing; must be
  /// owned by this user and not writable by group or others). Empty: no cache.
  std::filesystem::path directory;
  /// Bound on the bytes of all entries together (1 MiB..1 TiB). Past it the
  /// least recently used entries are removed; an entry larger than the bound
  /// is not written.
  std::uint64_t max_bytes = 512ull << 20;
};

/// Counters of the compiled-code cache since the Runtime was created.
struct ModuleCacheStats {
  std::uint64_t hits = 0;       ///< modules deserialized from a verified entry
  std::uint64_t misses = 0;     ///< lookups without a usable entry (cache on)
  std::uint64_t rejected = 0;   ///< entries present but corrupt, foreign or incompatible
  std::uint64_t stores = 0;     ///< entries written
  std::uint64_t evictions = 0;  ///< entries removed to respect max_bytes
  std::uint64_t errors = 0;     ///< I/O problems (each logged; the first with details)
  std::uint64_t compiles = 0;   ///< modules compiled by the engine (cache on or off)
};

/// Engine-wide settings. Validated by Runtime::create; a bad value is an
/// InvalidArgument error, never an abort.
struct RuntimeConfig {
  /// Instance slots of the pooling allocator: the most instances alive at once,
  /// across all plugins and threads. A call that finds none free fails with
  /// PoolSaturated instead of waiting.
  std::uint32_t max_instances = 256;
  /// The largest memory any plugin may be allowed (Limits::memory_bytes <= this).
  std::uint64_t max_memory_bytes = 64u << 20;
  /// The largest table any plugin may be allowed (Limits::table_elements <= this).
  std::uint32_t max_table_elements = 20'000;
  /// Largest module accepted by load (bytes).
  std::size_t max_module_bytes = 32u << 20;
  /// Compile-cost bounds for every module loaded or inspected.
  CompileLimits compile;
  /// Maximum wasm stack per call; deep recursion traps with StackOverflow.
  std::size_t max_wasm_stack = 512u << 10;
  /// Resolution of deadlines: the epoch ticker's period.
  std::chrono::microseconds epoch_tick{1000};
  /// Enables fuel metering engine-wide (costs guest speed). Needed for Limits::fuel.
  bool enable_fuel = false;
  /// Bytes of each linear memory kept resident between instances (faster
  /// reuse of pool slots at the cost of RSS).
  std::size_t memory_keep_resident = 128u << 10;
  /// Where guest log lines go; default: stderr, one line each.
  LogSink log_sink;
  /// Guest log lines below this level are dropped where the guest makes them,
  /// before they are copied, escaped or queued (the line's bounds are still
  /// checked), and count against no log budget. Trace (default): all lines.
  LogLevel min_log_level = LogLevel::Trace;
  /// Longest guest log message kept; longer ones are cut and marked
  /// "... [truncated N bytes]". Control bytes in it are escaped as \xNN.
  std::size_t max_log_message_bytes = 4096;
  /// Log budget of one call (lines; > 0). Lines past it are dropped and
  /// counted; the call then ends with one record "[N lines / M bytes over
  /// this call's log budget dropped]".
  std::uint32_t max_log_lines_per_call = 256;
  /// Log budget of one call (bytes of messages as delivered; > 0).
  std::size_t max_log_bytes_per_call = 64u << 10;
  /// Log records waiting for the sink at most (1..1000000); more are dropped.
  std::size_t log_queue_records = 4096;
  /// Retired warm instances (recycled, drained, of a dropped plugin) waiting
  /// for their wp_shutdown on the retirer thread at most (0..100000; no more
  /// than max_instances count: they hold their instance slots meanwhile).
  /// Past it an instance is dropped without wp_shutdown, counted and logged.
  /// 0: never call wp_shutdown.
  std::uint32_t retire_queue_instances = 32;
  /// Receives call, instantiation and pool events; null = no metrics.
  std::shared_ptr<MetricsSink> metrics;
  /// Host functions the embedder offers to plugins (wasmplug/host.hpp),
  /// available to every ABI profile; a plugin may import one only when its
  /// LoadOptions::host_functions grants it. InvalidArgument when a module or
  /// name is empty, a function is registered twice, its module is reserved
  /// (wasmplug, wasi_snapshot_preview1, wasi_unstable) or it has the name of
  /// a built-in host function of any profile (e.g. env.log).
  std::vector<HostFunction> host_functions;
  /// On-disk compiled-code cache; off by default.
  ModuleCacheConfig module_cache;
};

/// What a hook call produced.
struct Output {
  enum class Kind : std::uint8_t {
    Bytes,  ///< transform produced `bytes` (possibly empty)
    Keep,   ///< filter kept the input
    Drop,   ///< filter or transform dropped the input
    Done,   ///< observe finished
  };
  Kind kind = Kind::Done;
  std::vector<std::uint8_t> bytes;
  /// True when a Registry slot answered with its failure-policy fallback
  /// instead of the plugin (see registry.hpp).
  bool fallback = false;

  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};
[[nodiscard]] std::string_view to_string(Output::Kind kind) noexcept;

/// One warm instance of a plugin that belongs to its holder alone
/// (Runtime::open_session), where Runtime::call leases any instance of the
/// plugin's pool: a stateful plugin's state then follows one stream (a
/// pipeline keeps one per Kafka partition). Not thread-safe: one call at a
/// time (the holder serialises). The Runtime must outlive it.
///
/// The instance is made and initialised (wp_init with the plugin's config)
/// by open_session, so an init error shows there. A call that fails after
/// entering the guest (trap, timeout, out of memory ...) discards the
/// instance, as the pool does, and the next call makes a new one (its state
/// starts over). Destroying the session hands a healthy instance to the
/// runtime's retirer thread, which runs its wp_shutdown (never the caller's
/// thread). The instance holds one of RuntimeConfig::max_instances slots
/// for the session's whole life, outside the plugin's pool (PoolOptions do
/// not apply). A fresh-isolation plugin keeps no instance: every call of its
/// session is a fresh call.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// One hook call on the session's instance: the prechecks, errors and
  /// metrics of Runtime::call.
  [[nodiscard]] Result<Output> call(Hook hook, std::span<const std::uint8_t> input);
  [[nodiscard]] const Plugin& plugin() const noexcept;
  /// Instances this session made so far (1 after open; +1 after each failed
  /// call that discarded one; 0 for fresh isolation).
  [[nodiscard]] std::uint64_t instances_created() const noexcept;

 private:
  friend class Runtime;
  Session(const detail::Engine& engine, std::unique_ptr<detail::SessionCore> core);
  const detail::Engine* engine_;
  std::unique_ptr<detail::SessionCore> core_;
};

/// Owns the Wasmtime engine (pooling allocator, epoch interruption) and its
/// epoch-ticker thread. Thread-safe: load and call may be used from any number
/// of threads at once. Must outlive every call; destroying it stops the ticker.
class Runtime {
 public:
  /// Validates `config` and starts the engine and ticker.
  /// Fails with InvalidArgument naming the bad field, or InstantiateFailed
  /// when the engine cannot reserve its pool.
  [[nodiscard]] static Result<std::unique_ptr<Runtime>> create(RuntimeConfig config = {});

  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Admission + compile + instance-pre. No guest code runs. Loading the same
  /// content (same content hash and name) again returns the same Plugin while
  /// anyone still holds it.
  /// Errors: CompileFailed (not wasm, truncated, invalid), Rejected (policy;
  /// message lists every reason), InvalidArgument (limits beyond the config,
  /// a grant in LoadOptions::host_functions naming no registered function),
  /// InstantiateFailed (imports could not be linked).
  [[nodiscard]] Result<std::shared_ptr<const Plugin>> load(std::span<const std::uint8_t> wasm,
                                                           const LoadOptions& options = {});
  /// As load(bytes), reading the file first: Io naming the file and the
  /// reason (errno text: missing, a directory, unreadable ...); Rejected when
  /// it holds more than RuntimeConfig::max_module_bytes, found without
  /// reading more than that (also for pipes and devices).
  [[nodiscard]] Result<std::shared_ptr<const Plugin>> load_file(const std::filesystem::path& path,
                                                                const LoadOptions& options = {});

  /// Runs admission only and returns the full report, even for a module that
  /// would be rejected. Fails only when the bytes do not compile, or with
  /// InvalidArgument when LoadOptions::host_functions names a function that
  /// is not registered (or one twice).
  [[nodiscard]] Result<AdmissionReport> inspect(std::span<const std::uint8_t> wasm,
                                                const LoadOptions& options = {});

  /// One hook call. Fresh isolation: a new instance from the plugin's
  /// instance-pre, init, alloc → write → hook → read, then the instance is
  /// dropped; nothing carries over between calls. Warm isolation: an instance
  /// leased from the plugin's pool (created and wp_init'ed on demand) and
  /// returned; an instance whose call failed is discarded, never reused.
  /// Thread-safe. Errors carry kind, phase, plugin and hook; the plugin stays
  /// usable.
  [[nodiscard]] Result<Output> call(const Plugin& plugin, Hook hook,
                                    std::span<const std::uint8_t> input) const;

  /// Creates one instance of `plugin` and runs its initialisers (start
  /// function, _initialize, wp_init with the plugin's config) without calling
  /// a hook: a canary for "does this plugin accept its config". With warm
  /// isolation the instance stays in the pool, ready for the first call.
  [[nodiscard]] Result<void> prepare(const Plugin& plugin) const;

  /// A dedicated instance of `plugin` (see Session). Errors: PoolSaturated
  /// when all RuntimeConfig::max_instances slots are in use (the message
  /// names the limit); the instantiation or initialiser error (InitFailed
  /// ...) of the plugin otherwise. Thread-safe.
  [[nodiscard]] Result<std::unique_ptr<Session>> open_session(std::shared_ptr<const Plugin> plugin) const;

  /// Instances alive right now: fresh calls in flight plus warm instances
  /// (including retired ones still waiting for their wp_shutdown).
  [[nodiscard]] std::uint32_t live_instances() const noexcept;

  /// Waits, up to `timeout`, until every instance retired so far (recycled,
  /// drained, or of a plugin whose last reference went) was shut down and
  /// freed, and every guest log record produced so far reached the LogSink.
  /// True when both happened. For tests, and for hosts that want
  /// live_instances() settled or logs flushed at a point of their choosing.
  /// Must not be called from the LogSink.
  [[nodiscard]] bool quiesce(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  [[nodiscard]] const RuntimeConfig& config() const noexcept;

  /// Torvyn components (wasmplug/torvyn.hpp, docs/profiles/torvyn.md):
  /// validates `options`, compiles the component (through the compiled-code
  /// cache when configured) and admits it for `options.world`: it must export
  /// what the world requires with the exact types and import only what the
  /// world grants (no WASI). No guest code runs. Errors: InvalidArgument
  /// naming the option, CompileFailed (not a component), Rejected (phase
  /// Admit, naming each offending import or export). Thread-safe.
  [[nodiscard]] Result<std::shared_ptr<const torvyn::Component>> load_component(
      std::span<const std::uint8_t> wasm, const torvyn::ComponentOptions& options);
  /// As load_component, reading the file first (Io naming file and reason).
  [[nodiscard]] Result<std::shared_ptr<const torvyn::Component>> load_component_file(
      const std::filesystem::path& path, const torvyn::ComponentOptions& options);
  /// Admission only: the full report, also for a component that would be
  /// rejected. Fails only when the bytes are not a component (or options are bad).
  [[nodiscard]] Result<torvyn::ComponentReport> inspect_component(std::span<const std::uint8_t> wasm,
                                                                  const torvyn::ComponentOptions& options);
  /// A component from Component::serialize bytes of a Runtime with the same
  /// Wasmtime version and engine settings, then admitted like load_component
  /// (content_hash empty). Wasmtime trusts serialized code: pass only bytes
  /// you serialized yourself and kept where nobody else can write.
  /// Incompatible bytes are CompileFailed (phase Load).
  [[nodiscard]] Result<std::shared_ptr<const torvyn::Component>> deserialize_component(
      std::span<const std::uint8_t> serialized, const torvyn::ComponentOptions& options);

  /// Compiled-code cache counters (all zero but `compiles` when it is off).
  [[nodiscard]] ModuleCacheStats module_cache_stats() const noexcept;

  /// For the library's own dispatch code.
  [[nodiscard]] const detail::Engine& engine() const noexcept { return *engine_; }

 private:
  struct State;
  [[nodiscard]] Result<std::shared_ptr<const Plugin>> load_checked(std::span<const std::uint8_t> wasm,
                                                                   const LoadOptions& options);
  Runtime(std::shared_ptr<detail::Engine> engine, std::unique_ptr<State> state);
  std::shared_ptr<detail::Engine> engine_;  // shared with every Plugin
  std::unique_ptr<State> state_;
};

}  // namespace wasmplug
