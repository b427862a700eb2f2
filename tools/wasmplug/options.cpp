#include "options.hpp"

#include <thread>

#include "profiles.hpp"

namespace wasmplug::cli {

std::uint32_t default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

namespace {

std::string hooks_help() {
  std::string text = "Hook to call; the profile's first by default:";
  for (const ProfileEntry& p : profiles()) {
    text += " " + std::string(p.name) + ": " + hook_list(p) + ";";
  }
  text.pop_back();
  return text;
}

}  // namespace

void add_abi_option(CLI::App& cmd, std::string& abi, bool guessable) {
  std::string names;
  for (const std::string& n : profile_names()) {
    names += (names.empty() ? "" : " | ") + n;
  }
  auto* option = cmd.add_option("--abi", abi,
                                "Plugin contract: " + names + (guessable ? " (default: guessed from the module)" : ""))
                     ->check(CLI::IsMember(profile_names()));
  if (guessable) {
    option->default_str("");
  }
}

void add_plugin_options(CLI::App& cmd, PluginSetup& setup) {
  cmd.add_option("plugin", setup.plugin, "Plugin module (.wasm), at most 32 MiB")->required();
  add_abi_option(cmd, setup.abi, false);
  cmd.add_option("--hook", setup.hook, hooks_help())->check(CLI::IsMember(all_hook_names()));
  cmd.add_option("--config", setup.config,
                 "File handed to the plugin's init hook (native wp_init, rustcdc init), at most 1 MiB; "
                 "an error for a plugin without one");
  cmd.add_option("--schema", setup.schema,
                 "kestrel: JSON file of event field name -> {\"id\": N, \"type\": i64|u64|f64|bool|string}");
  cmd.add_option("--isolation", setup.isolation,
                 "fresh (new instance per call) | warm (pooled, one instance per thread) (default: fresh; "
                 "kestrel: warm, the engine's pool)")
      ->check(CLI::IsMember({"fresh", "warm"}))
      ->default_str("");
  cmd.add_option("--deadline-ms", setup.deadline_ms, "Per-call deadline")->check(CLI::Range(1, 600'000));
  cmd.add_option("--memory-mb", setup.memory_mb, "Guest memory limit")->check(CLI::Range(1, 64));
  cmd.add_flag("--wasi", setup.wasi,
               "Allow wasmplug's WASI capability set (stdout/stderr to the log, clocks, random; no files, "
               "sockets or environment): Go, Rust wasip1 and C stdio plugins need it");
  cmd.add_option("--cache-dir", setup.cache_dir,
                 "Compiled-code cache (default: $XDG_CACHE_HOME/wasmplug/modules or ~/.cache/wasmplug/modules)");
  cmd.add_flag("--no-cache", setup.no_cache, "Compile the plugin without the compiled-code cache");
}

void add_json_flag(CLI::App& cmd, bool& json, const std::string& what) {
  cmd.add_flag("--json", json, what + " as one JSON object");
}

}  // namespace wasmplug::cli
