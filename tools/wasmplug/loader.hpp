// Plugin loading shared by the subcommands: config file, limits, isolation,
// load, hook check, initialisers. Failures print one line naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "wasmplug/runtime.hpp"

namespace wasmplug::cli {

/// Largest --config file: the bytes are handed to wp_init whole.
inline constexpr std::size_t kMaxConfigBytes = 1u << 20;

struct PluginSetup {
  std::string plugin;
  std::string hook = "transform";
  std::string config;  ///< file whose bytes go to wp_init; empty: none
  std::string isolation = "fresh";
  std::uint32_t deadline_ms = 50;
  std::uint32_t memory_mb = 16;
  std::uint32_t pool_size = 4;
  bool wasi = false;  ///< LoadOptions::wasi
  std::string cache_dir;  ///< compiled-code cache; empty: the default location
  bool no_cache = false;
};

/// Where the CLI keeps compiled code: `setup.cache_dir`, else
/// $XDG_CACHE_HOME/wasmplug/modules, else $HOME/.cache/wasmplug/modules;
/// empty (no cache) with --no-cache or when neither variable is set.
[[nodiscard]] std::filesystem::path cache_directory(const PluginSetup& setup);

struct Loaded {
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<const Plugin> plugin;
  Hook hook = Hook::Transform;

  Loaded() = default;
  Loaded(Loaded&&) = default;
  Loaded& operator=(Loaded&&) = default;
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;
  /// Drops the plugin and waits (bounded) for its instances' wp_shutdown and
  /// for every guest log line to reach stderr before the runtime goes: the
  /// runtime's destructor drops instances still queued without shutting
  /// them down.
  ~Loaded() {
    plugin.reset();
    if (runtime) {
      (void)runtime->quiesce();
    }
  }
};

/// Guest log lines go to stderr as "[plugin level] message".
[[nodiscard]] std::optional<Loaded> load_plugin(const PluginSetup& setup);

void complain(const std::string& message);

}  // namespace wasmplug::cli
