#include "loader.hpp"

#include <cstdio>
#include <cstdlib>

#include "io.hpp"

namespace wasmplug::cli {

void complain(const std::string& message) { std::fprintf(stderr, "wasmplug: %s\n", message.c_str()); }

std::filesystem::path cache_directory(const PluginSetup& setup) {
  if (setup.no_cache) {
    return {};
  }
  if (!setup.cache_dir.empty()) {
    return std::filesystem::absolute(setup.cache_dir);
  }
  // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/') {
    return std::filesystem::path(xdg) / "wasmplug" / "modules";
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home == '/') {
    return std::filesystem::path(home) / ".cache" / "wasmplug" / "modules";
  }
  return {};
}

std::optional<Loaded> load_plugin(const PluginSetup& setup) {
  Loaded loaded;
  auto hook = parse_hook(setup.hook);
  if (!hook) {
    complain("unknown hook '" + setup.hook + "' (filter, transform or observe)");
    return std::nullopt;
  }
  loaded.hook = *hook;
  LoadOptions load;
  load.name = setup.plugin.substr(setup.plugin.find_last_of('/') + 1);
  load.limits.deadline = std::chrono::milliseconds(setup.deadline_ms);
  load.limits.memory_bytes = std::uint64_t{setup.memory_mb} << 20;
  load.isolation = setup.isolation == "warm" ? Isolation::Warm : Isolation::Fresh;
  load.pool.max_instances = setup.pool_size;
  load.wasi = setup.wasi;
  if (!setup.config.empty()) {
    auto config = read_file_bounded(setup.config, kMaxConfigBytes, "config file ",
                                    format_size(kMaxConfigBytes) + " (the --config limit)");
    if (!config) {
      complain(config.error().message);
      return std::nullopt;
    }
    load.config.assign(config->begin(), config->end());
  }

  RuntimeConfig config;
  config.log_sink = [](const LogRecord& r) {
    std::fprintf(stderr, "[%.*s %.*s] %.*s\n", static_cast<int>(r.plugin.size()), r.plugin.data(),
                 static_cast<int>(to_string(r.level).size()), to_string(r.level).data(),
                 static_cast<int>(r.message.size()), r.message.data());
  };
  config.module_cache.directory = cache_directory(setup);
  auto runtime = Runtime::create(config);
  if (!runtime) {
    complain(runtime.error().to_string());
    return std::nullopt;
  }
  loaded.runtime = std::move(runtime).value();
  auto plugin = loaded.runtime->load_file(setup.plugin, load);
  if (!plugin) {
    complain("cannot load " + setup.plugin + ": " + plugin.error().to_string());
    return std::nullopt;
  }
  loaded.plugin = std::move(plugin).value();
  if (!loaded.plugin->has_hook(loaded.hook)) {
    complain(setup.plugin + " does not export the " + setup.hook + " hook");
    return std::nullopt;
  }
  // A plugin that rejects its config would fail every record: say so once.
  if (auto ready = loaded.runtime->prepare(*loaded.plugin); !ready) {
    complain("cannot start " + setup.plugin + ": " + ready.error().to_string());
    return std::nullopt;
  }
  return loaded;
}

}  // namespace wasmplug::cli
