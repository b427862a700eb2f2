#include "loader.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "io.hpp"
#include "kestrel_events.hpp"

namespace wasmplug::cli {

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string base_name(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

std::unique_ptr<Runtime> make_runtime(const PluginSetup& setup) {
  RuntimeConfig config;
  config.log_sink = [](const LogRecord& r) {
    std::fprintf(stderr, "[%.*s %.*s] %.*s\n", static_cast<int>(r.plugin.size()), r.plugin.data(),
                 static_cast<int>(to_string(r.level).size()), to_string(r.level).data(),
                 static_cast<int>(r.message.size()), r.message.data());
  };
  config.module_cache.directory = cache_directory(setup);
  config.metrics = setup.metrics;
  auto runtime = Runtime::create(config);
  if (!runtime) {
    complain(runtime.error().to_string());
    return nullptr;
  }
  return std::move(runtime).value();
}

// --config goes to the profile's init export: a profile without one, or a
// module that does not export it, would silently ignore the file.
bool config_accepted(const PluginSetup& setup, const ProfileEntry& profile) {
  if (!setup.config.empty() && profile.init_export.empty()) {
    complain("--config " + setup.config + ": the " + std::string(profile.name) +
             " profile has no init hook to receive it");
    return false;
  }
  return true;
}

}  // namespace

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
  const ProfileEntry* profile = find_profile(setup.abi);
  if (profile == nullptr) {
    complain("unknown --abi '" + setup.abi + "'");
    return std::nullopt;
  }
  const HookName* hook = find_hook(*profile, setup.hook);
  if (hook == nullptr) {
    complain("the " + std::string(profile->name) + " profile has no '" + setup.hook + "' hook (" +
             hook_list(*profile) + ")");
    return std::nullopt;
  }
  if (!setup.schema.empty() && profile->load != &load_kestrel_rule) {
    complain("--schema describes Kestrel events; the " + std::string(profile->name) + " profile does not take one");
    return std::nullopt;
  }
  if (!config_accepted(setup, *profile)) {
    return std::nullopt;
  }
  auto loaded = profile->load(setup, *profile, *hook);
  if (loaded) {
    loaded->abi = profile->name;
    loaded->hook = hook->name;
  }
  return loaded;
}

std::optional<Loaded> load_hook_plugin(const PluginSetup& setup, const ProfileEntry& profile, const HookName& hook) {
  Loaded loaded;
  LoadOptions load;
  load.name = base_name(setup.plugin);
  load.abi = profile.abi;
  load.required_hooks = {hook.hook};
  load.limits.deadline = std::chrono::milliseconds(setup.deadline_ms);
  load.limits.memory_bytes = std::uint64_t{setup.memory_mb} << 20;
  load.isolation = setup.isolation == "warm" ? Isolation::Warm : Isolation::Fresh;
  loaded.isolation = setup.isolation == "warm" ? "warm" : "fresh";
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
  loaded.runtime = make_runtime(setup);
  if (!loaded.runtime) {
    return std::nullopt;
  }
  auto plugin = loaded.runtime->load_file(setup.plugin, load);
  if (!plugin) {
    complain("cannot load " + setup.plugin + ": " + plugin.error().to_string());
    return std::nullopt;
  }
  loaded.plugin = std::move(plugin).value();
  const auto& exports = loaded.plugin->report().exports;
  if (!setup.config.empty() &&
      std::ranges::none_of(exports, [&](const ExternInfo& e) { return e.name == profile.init_export; })) {
    complain("--config " + setup.config + ": " + setup.plugin + " does not export " +
             std::string(profile.init_export) + ", so nothing would receive it");
    return std::nullopt;
  }
  // A plugin that rejects its config would fail every record: say so once.
  if (auto ready = loaded.runtime->prepare(*loaded.plugin); !ready) {
    complain("cannot start " + setup.plugin + ": " + ready.error().to_string());
    return std::nullopt;
  }
  loaded.max_input_bytes = loaded.plugin->limits().max_input_bytes;
  loaded.process = [runtime = loaded.runtime.get(), plugin = loaded.plugin.get(), h = hook.hook](
                       std::string_view record, Scratch&) -> Result<Processed> {
    auto out = runtime->call(*plugin, h, as_bytes(record));
    if (!out) {
      return std::move(out).error();
    }
    return Processed{std::move(out).value(), {}, {}};
  };
  return loaded;
}

std::optional<Loaded> load_kestrel_rule(const PluginSetup& setup, const ProfileEntry&, const HookName&) {
  if (setup.schema.empty()) {
    complain("the kestrel profile needs --schema: a JSON file mapping event field names to ids and types");
    return std::nullopt;
  }
  auto schema = load_schema(setup.schema);
  if (!schema) {
    complain(schema.error().message);
    return std::nullopt;
  }
  if (setup.wasi) {
    complain("--wasi: the kestrel engine loads rules without WASI");
    return std::nullopt;
  }
  if (setup.isolation == "fresh") {
    complain("the kestrel engine evaluates on its warm pool of instances: --isolation fresh is not available");
    return std::nullopt;
  }
  Loaded loaded;
  loaded.runtime = make_runtime(setup);
  if (!loaded.runtime) {
    return std::nullopt;
  }
  auto wasm = read_file_bounded(setup.plugin, loaded.runtime->config().max_module_bytes, "",
                                "the module limit of " + format_size(loaded.runtime->config().max_module_bytes) +
                                    " (RuntimeConfig::max_module_bytes)");
  if (!wasm) {
    complain(wasm.error().message);
    return std::nullopt;
  }
  kestrel::EngineConfig config;
  config.deadline = std::chrono::milliseconds(setup.deadline_ms);
  config.max_memory_pages = setup.memory_mb * 16;
  config.instance_pool_size = setup.pool_size;
  loaded.engine = std::make_unique<kestrel::Engine>(*loaded.runtime, *schema, config);
  const std::string rule = base_name(setup.plugin);
  if (auto compiled = loaded.engine->compile_rule(rule, *wasm); !compiled) {
    complain("cannot load " + setup.plugin + ": " + compiled.error().to_string());
    return std::nullopt;
  }
  loaded.isolation = "warm";
  loaded.max_input_bytes = Limits{}.max_input_bytes;
  loaded.needs_json = true;
  loaded.process = [engine = loaded.engine.get(), rule](std::string_view record,
                                                        Scratch& scratch) -> Result<Processed> {
    Processed out;
    if (!scratch.parsed) {
      if (auto error = scratch.parser.parse(record.data(), record.size()).get(scratch.doc); error) {
        out.invalid_input = std::string("malformed JSON: ") + simdjson::error_message(error);
        return out;
      }
    }
    kestrel::Event event;
    out.invalid_input = to_event(scratch.doc, engine->schema(), event);
    if (!out.invalid_input.empty()) {
      return out;
    }
    auto result = engine->evaluate(rule, event);
    if (!result) {
      return std::move(result).error();
    }
    out.output.kind = result->matched ? Output::Kind::Keep : Output::Kind::Drop;
    out.alerts = std::move(result->alerts);
    return out;
  };
  return loaded;
}

}  // namespace wasmplug::cli
