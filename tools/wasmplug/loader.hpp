// Plugin loading shared by `run` and `bench`: profile and hook, config file,
// limits, isolation, load, initialisers; and the one function both then call
// per record. Failures print one line naming the file and the reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>
#include <vector>

#include "profiles.hpp"
#include "wasmplug/kestrel.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::cli {

/// Largest --config file: the bytes are handed to the plugin's init whole.
inline constexpr std::size_t kMaxConfigBytes = 1u << 20;

struct PluginSetup {
  std::string plugin;
  std::string abi = "native";
  std::string hook;    ///< empty: the profile's first hook
  std::string config;  ///< file whose bytes go to the plugin's init; empty: none
  std::string schema;  ///< kestrel: JSON file mapping event field names to ids and types
  std::string isolation;  ///< fresh | warm; empty: the profile's default (fresh; kestrel warm)
  std::uint32_t deadline_ms = 50;
  std::uint32_t memory_mb = 16;
  std::uint32_t pool_size = 4;  ///< warm instances: one per calling thread
  bool wasi = false;            ///< LoadOptions::wasi
  std::string cache_dir;        ///< compiled-code cache; empty: the default location
  bool no_cache = false;        ///< --no-cache
  std::shared_ptr<MetricsSink> metrics;  ///< RuntimeConfig::metrics (--metrics-addr); null: none
};

/// Where the CLI keeps compiled code: `setup.cache_dir`, else
/// $XDG_CACHE_HOME/wasmplug/modules, else $HOME/.cache/wasmplug/modules;
/// empty (no cache) with --no-cache or when neither variable is set.
[[nodiscard]] std::filesystem::path cache_directory(const PluginSetup& setup);

/// What one record became.
struct Processed {
  Output output;
  std::vector<kestrel::Alert> alerts;
  /// Set when the record is not a valid input for the profile (a Kestrel
  /// event of the wrong shape): a failed record of kind InvalidInput.
  std::string invalid_input;
};

/// Per-thread scratch of a Process: a JSON parser, and the record already
/// parsed into `doc` when `parsed` is set (run validates JSON lines first).
struct Scratch {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  bool parsed = false;
};

/// One record through the plugin. Thread-safe: called from every worker at once,
/// each with its own Scratch.
using Process = std::function<Result<Processed>(std::string_view record, Scratch& scratch)>;

struct Loaded {
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<const Plugin> plugin;     ///< hook profiles
  std::unique_ptr<kestrel::Engine> engine;  ///< kestrel: the rule's engine
  Process process;
  std::uint32_t max_input_bytes = 0;
  bool needs_json = false;  ///< records must be JSON (kestrel events)
  std::string abi;          ///< the profile's name
  std::string hook;         ///< the hook's name in the profile
  std::string isolation;    ///< fresh | warm, as used

  Loaded() = default;
  Loaded(Loaded&&) = default;
  Loaded& operator=(Loaded&&) = default;
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;
  /// Drops the plugin and waits (bounded) for its instances' shutdown hooks
  /// and for every guest log line to reach stderr before the runtime goes:
  /// the runtime's destructor drops instances still queued without shutting
  /// them down.
  ~Loaded() {
    process = nullptr;
    engine.reset();
    plugin.reset();
    if (runtime) {
      (void)runtime->quiesce();
    }
  }
};

/// Resolves --abi and --hook and calls the profile's loader.
[[nodiscard]] std::optional<Loaded> load_plugin(const PluginSetup& setup);

/// The loaders the profile table names. Guest log lines go to stderr as
/// "[plugin level] message".
[[nodiscard]] std::optional<Loaded> load_hook_plugin(const PluginSetup& setup, const ProfileEntry& profile,
                                                     const HookName& hook);
[[nodiscard]] std::optional<Loaded> load_kestrel_rule(const PluginSetup& setup, const ProfileEntry& profile,
                                                      const HookName& hook);

void complain(const std::string& message);

}  // namespace wasmplug::cli
