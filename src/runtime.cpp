// Runtime: composes engine, host sets, admission and dispatch.
#include "wasmplug/runtime.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "abi/abi.hpp"
#include "admission/admission.hpp"
#include "admission/hash.hpp"
#include "admission/sections.hpp"
#include "dispatch/call.hpp"
#include "dispatch/plugin_code.hpp"
#include "engine/engine.hpp"
#include "engine/failure.hpp"
#include "host/core.hpp"
#include "host/kestrel.hpp"
#include "host/rustcdc.hpp"

namespace wasmplug {

using namespace detail;

Plugin::Plugin(std::string name, std::uint64_t version_id, const LoadOptions& options, AdmissionReport report,
               std::unique_ptr<const PluginCode> code)
    : name_(std::move(name)),
      version_id_(version_id),
      limits_(options.limits),
      config_(options.config),
      isolation_(options.isolation),
      pool_(options.pool),
      report_(std::move(report)),
      code_(std::move(code)) {
  for (Hook hook : report_.hooks) {
    hooks_ = static_cast<std::uint8_t>(hooks_ | (1u << static_cast<unsigned>(hook)));
  }
}

Plugin::~Plugin() = default;

std::map<std::string, std::int64_t> Plugin::guest_metrics() const {
  std::lock_guard lock(code_->guest_metrics.mutex);
  return {code_->guest_metrics.values.begin(), code_->guest_metrics.values.end()};
}

PoolStats Plugin::pool_stats() const noexcept {
  return code_->pool ? code_->pool->stats() : PoolStats{};
}

namespace {

std::span<const HostFuncDef> functions_of(HostSet set) {
  switch (set) {
    case HostSet::Core: return core_host_functions();
    case HostSet::Rustcdc: return rustcdc_host_functions();
    case HostSet::Kestrel: return kestrel_host_functions();
  }
  return {};
}

std::vector<HostFuncDef> host_functions_for(const AbiSpec& spec) {
  std::vector<HostFuncDef> out;
  for (HostSet set : spec.host_sets) {
    auto defs = functions_of(set);
    out.insert(out.end(), defs.begin(), defs.end());
  }
  return out;
}

std::string hex_prefix(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 4); ++i) {
    out += (i == 0 ? "" : " ");
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out.empty() ? "nothing (empty input)" : out;
}

constexpr std::uint64_t kWasmPage = 64u << 10;

}  // namespace

/// Per-profile linkers and allow-lists, the load cache, version ids.
struct Runtime::State {
  struct Profile {
    LinkerHandle linker;
    std::vector<HostFuncDef> imports;
  };
  std::map<AbiProfile, Profile> profiles;
  std::mutex mutex;  // guards cache and next_version (load path only)
  std::map<std::string, std::weak_ptr<const Plugin>> cache;
  std::uint64_t next_version = 1;
};

Result<std::unique_ptr<Runtime>> Runtime::create(RuntimeConfig config) {
  auto engine = Engine::create(std::move(config));
  if (!engine) {
    return std::move(engine).error();
  }
  auto state = std::make_unique<State>();
  for (AbiProfile profile : {AbiProfile::Native, AbiProfile::CcLb, AbiProfile::Rustcdc, AbiProfile::Kestrel}) {
    State::Profile p;
    p.imports = host_functions_for(abi_spec(profile));
    p.linker = LinkerHandle(wasmtime_linker_new((*engine)->raw()));
    if (auto defined = define_all(p.linker.get(), p.imports); !defined) {
      return std::move(defined).error();
    }
    state->profiles.emplace(profile, std::move(p));
  }
  return std::unique_ptr<Runtime>(
      new Runtime(std::shared_ptr<Engine>(std::move(engine).value()), std::move(state)));
}

Runtime::Runtime(std::shared_ptr<Engine> engine, std::unique_ptr<State> state)
    : engine_(std::move(engine)), state_(std::move(state)) {}

Runtime::~Runtime() = default;

const RuntimeConfig& Runtime::config() const noexcept { return engine_->config(); }

std::uint32_t Runtime::live_instances() const noexcept { return engine_->slots().used(); }

namespace {

std::string join_problems(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) {
    out += (out.empty() ? "" : "; ") + p;
  }
  return out;
}

struct Compiled {
  ModuleHandle module;
  Admission admission;
};

Result<Compiled> compile_and_admit(const Engine& engine, std::span<const std::uint8_t> wasm,
                                   const LoadOptions& options, std::span<const HostFuncDef> imports,
                                   std::string hash) {
  auto fail = [&](ErrorKind kind, Phase phase, std::string message) {
    return Error{kind, phase, options.name, {}, std::move(message)};
  };
  if (wasm.size() > engine.config().max_module_bytes) {
    return fail(ErrorKind::Rejected, Phase::Load,
                "module of " + std::to_string(wasm.size()) + " bytes exceeds the limit of " +
                    std::to_string(engine.config().max_module_bytes));
  }
  if (!has_wasm_header(wasm)) {
    return fail(ErrorKind::CompileFailed, Phase::Compile,
                "not a WebAssembly module: expected the header 00 61 73 6d 01 00 00 00, found " +
                    hex_prefix(wasm));
  }
  // The section reader runs first: when the engine refuses a module because
  // its declared memory or table cannot fit the instance pool, the policy
  // problem is the reason to report.
  auto sections = read_sections(wasm);
  wasmtime_module_t* raw = nullptr;
  if (wasmtime_error_t* error = wasmtime_module_new(engine.raw(), wasm.data(), wasm.size(), &raw)) {
    std::string message = take_message(error);
    if (sections.ok()) {
      AdmissionReport policy;
      check_memory_and_tables(*sections, options.limits, policy);
      if (!policy.admitted()) {
        return fail(ErrorKind::Rejected, Phase::Admit,
                    "rejected: " + join_problems(policy.problems) + " (engine: " + message + ")");
      }
    }
    return fail(ErrorKind::CompileFailed, Phase::Compile, "invalid WebAssembly module: " + message);
  }
  Compiled out{ModuleHandle(raw), {}};
  if (!sections) {
    Error e = std::move(sections).error();
    e.plugin = options.name;
    return e;
  }
  out.admission = admit(out.module.get(), *sections, abi_spec(options.abi), imports, options.limits);
  out.admission.report.content_hash = std::move(hash);
  return out;
}

}  // namespace

Result<AdmissionReport> Runtime::inspect(std::span<const std::uint8_t> wasm, const LoadOptions& options) {
  auto compiled = compile_and_admit(*engine_, wasm, options, state_->profiles.at(options.abi).imports,
                                    content_hash(wasm, options));
  if (!compiled) {
    return std::move(compiled).error();
  }
  return std::move(compiled->admission.report);
}

Result<std::shared_ptr<const Plugin>> Runtime::load(std::span<const std::uint8_t> wasm,
                                                    const LoadOptions& options) {
  auto invalid = [&](std::string message) {
    return Error{ErrorKind::InvalidArgument, Phase::Load, options.name, {}, std::move(message)};
  };
  const Limits& limits = options.limits;
  const RuntimeConfig& config = engine_->config();
  if (options.name.empty()) {
    return invalid("the plugin name must not be empty");
  }
  if (limits.memory_bytes < kWasmPage || limits.memory_bytes > config.max_memory_bytes) {
    return invalid("memory limit " + std::to_string(limits.memory_bytes) + " bytes is outside 64 KiB.." +
                   std::to_string(config.max_memory_bytes) + " (RuntimeConfig::max_memory_bytes)");
  }
  if (limits.table_elements > config.max_table_elements) {
    return invalid("table limit " + std::to_string(limits.table_elements) + " exceeds " +
                   std::to_string(config.max_table_elements) + " (RuntimeConfig::max_table_elements)");
  }
  if (limits.max_guest_metrics > 1'000'000) {
    return invalid("Limits::max_guest_metrics must be in 0..1000000, got " + std::to_string(limits.max_guest_metrics));
  }
  if (limits.max_guest_metric_name_bytes > (256u << 20)) {
    return invalid("Limits::max_guest_metric_name_bytes must be in 0..268435456, got " +
                   std::to_string(limits.max_guest_metric_name_bytes));
  }
  if (limits.deadline.count() <= 0) {
    return invalid("the deadline must be positive");
  }
  if (limits.fuel && !config.enable_fuel) {
    return invalid("a fuel budget needs RuntimeConfig::enable_fuel");
  }
  if (options.isolation == Isolation::Warm &&
      (options.pool.max_instances == 0 || options.pool.max_instances > config.max_instances)) {
    return invalid("pool.max_instances must be in 1.." + std::to_string(config.max_instances) +
                   " (RuntimeConfig::max_instances), got " + std::to_string(options.pool.max_instances));
  }

  // Same name and content as a live plugin: no need to compile again (this
  // makes re-registering a known version, e.g. a hot-swap back, cheap).
  std::string hash = wasm.size() <= config.max_module_bytes ? content_hash(wasm, options) : std::string();
  const std::string key = options.name + "\n" + hash;
  {
    std::lock_guard lock(state_->mutex);
    if (auto it = state_->cache.find(key); it != state_->cache.end()) {
      if (auto cached = it->second.lock()) {
        return cached;
      }
    }
  }

  State::Profile& profile = state_->profiles.at(options.abi);
  auto compiled = compile_and_admit(*engine_, wasm, options, profile.imports, std::move(hash));
  if (!compiled) {
    return std::move(compiled).error();
  }
  AdmissionReport& report = compiled->admission.report;
  if (!report.admitted()) {
    return Error{ErrorKind::Rejected, Phase::Admit, options.name, {},
                 "rejected: " + join_problems(report.problems)};
  }

  wasmtime_instance_pre_t* pre = nullptr;
  if (wasmtime_error_t* error =
          wasmtime_linker_instantiate_pre(profile.linker.get(), compiled->module.get(), &pre)) {
    return Error{ErrorKind::InstantiateFailed, Phase::Instantiate, options.name, {},
                 "cannot link the module's imports: " + take_message(error)};
  }
  auto code = std::make_unique<PluginCode>();
  code->engine = engine_;
  if (options.isolation == Isolation::Warm) {
    code->pool = std::make_unique<WarmPool>(*engine_, options.pool);
  }
  code->module = std::move(compiled->module);
  code->instance_pre = InstancePreHandle(pre);
  code->memory_export = compiled->admission.memory_export;
  code->export_index = std::move(compiled->admission.export_index);

  std::lock_guard lock(state_->mutex);
  if (auto it = state_->cache.find(key); it != state_->cache.end()) {
    if (auto cached = it->second.lock()) {
      return cached;  // another thread loaded the same content meanwhile
    }
  }
  auto plugin = std::make_shared<const Plugin>(options.name, state_->next_version++, options, std::move(report),
                                               std::move(code));
  std::erase_if(state_->cache, [](const auto& entry) { return entry.second.expired(); });
  state_->cache[key] = plugin;
  return std::shared_ptr<const Plugin>(plugin);
}

Result<std::shared_ptr<const Plugin>> Runtime::load_file(const std::filesystem::path& path,
                                                         const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorKind::Io, Phase::Load, options.name, {}, "cannot open " + path.string()};
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return Error{ErrorKind::Io, Phase::Load, options.name, {}, "cannot read " + path.string()};
  }
  return load(bytes, options);
}

Result<void> Runtime::prepare(const Plugin& plugin) const { return detail::prepare(*engine_, plugin); }

Result<Output> Runtime::call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input) const {
  return dispatch_call(*engine_, plugin, hook, input);
}

}  // namespace wasmplug
