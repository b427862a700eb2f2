// Runtime: composes engine, host sets, admission and dispatch.
#include "wasmplug/runtime.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <new>

#include "abi/abi.hpp"
#include "admission/admission.hpp"
#include "admission/cost.hpp"
#include "admission/hash.hpp"
#include "admission/sections.hpp"
#include "cache/module_cache.hpp"
#include "component/torvyn_code.hpp"
#include "isolation/call.hpp"
#include "instance/plugin_code.hpp"
#include "isolation/retirer.hpp"
#include "isolation/session.hpp"
#include "isolation/warm_pool.hpp"
#include "engine/engine.hpp"
#include "engine/failure.hpp"
#include "host/core.hpp"
#include "host/embedder.hpp"
#include "host/kestrel.hpp"
#include "host/rustcdc.hpp"
#include "host/wasi.hpp"

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

namespace detail {

Result<std::vector<std::uint8_t>> read_module_file(const std::filesystem::path& path, std::size_t max_bytes) {
  auto io = [&](const std::string& what, int err) {
    return Error{ErrorKind::Io, Phase::Load, {}, {}, what + " " + path.string() + ": " + std::strerror(err)};
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return io("cannot open", errno);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return io("cannot stat", errno);
  }
  if (S_ISDIR(st.st_mode)) {
    return io("cannot read", EISDIR);
  }
  auto too_big = [&](const std::string& size) {
    return Error{ErrorKind::Rejected, Phase::Load, {}, {},
                 path.string() + " is " + size + "; the module limit is " + std::to_string(max_bytes) +
                     " bytes (RuntimeConfig::max_module_bytes)"};
  };
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return too_big(std::to_string(st.st_size) + " bytes");
  }
  // Read to the end even for a regular file (it may grow meanwhile), never
  // past the limit: a pipe or a device like /dev/zero has no size to check.
  std::vector<std::uint8_t> bytes(S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : 0);
  std::size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (bytes.size() > max_bytes) {
        return too_big("larger than that");
      }
      // A regular file needs one more read to see its end; anything else
      // grows geometrically.
      const std::size_t grown = S_ISREG(st.st_mode) ? bytes.size() + (64u << 10)
                                                    : std::max<std::size_t>(bytes.size() * 2, 64u << 10);
      bytes.resize(std::min(max_bytes + 1, grown));
    }
    const ssize_t n = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io("cannot read", errno);
    }
    if (n == 0) {
      break;
    }
    used += static_cast<std::size_t>(n);
  }
  if (used > max_bytes) {
    return too_big("larger than that");
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace detail

namespace {

// The public API never lets an exception out: whatever a std:: call on the
// load path throws (bad_alloc above all) becomes an Error.
template <class F>
auto guard_exceptions(const std::string& plugin, Phase phase, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::LimitExceeded, phase, plugin, {}, "the host ran out of memory"};
  } catch (const std::exception& e) {
    return Error{ErrorKind::InvalidArgument, phase, plugin, {}, std::string("internal error: ") + e.what()};
  }
}

}  // namespace

/// Per-profile linkers and allow-lists, the load cache, version ids.
struct Runtime::State {
  struct Profile {
    LinkerHandle linker;
    std::vector<HostFuncDef> imports;
  };
  std::map<AbiProfile, Profile> profiles;
  /// RuntimeConfig::host_functions as admission sees them; defined in every
  /// profile's linker, allowed per plugin by its grants.
  std::vector<HostFuncDef> embedder;
  [[nodiscard]] Result<ImportRules> import_rules_for(const LoadOptions& options) const {
    return import_rules(profiles.at(options.abi).imports, embedder, options);
  }
  std::mutex mutex;  // guards cache and next_version (load path only)
  std::map<std::string, std::weak_ptr<const Plugin>> cache;
  std::uint64_t next_version = 1;
  /// The last few modules compiled (by inspect or load), by module hash:
  /// inspecting and then loading compiles once, and loading content again
  /// after its plugin was dropped (a removed slot registered again, a
  /// rollback to a version nobody held) does not compile again. Bounded;
  /// guarded by `mutex`. A compiled module is immutable and shareable.
  static constexpr std::size_t kRecentModules = 4;
  std::deque<std::pair<std::string, ModuleHandle>> recent;
  /// Compiles every module; with RuntimeConfig::module_cache, through the
  /// on-disk cache (src/cache/). Set by create.
  std::unique_ptr<ModuleCache> code_cache;

  /// The module hash, or "" for a module over the size limit (which
  /// compile_and_admit refuses before anything else: no need to hash it).
  static std::string module_hash_within(std::span<const std::uint8_t> wasm, std::size_t max_bytes) {
    return wasm.size() <= max_bytes ? module_hash(wasm) : std::string();
  }
  /// A new handle to the recently compiled module with this hash, or null
  /// (always for "").
  ModuleHandle recent_module(const std::string& hash) {
    if (hash.empty()) {
      return {};
    }
    std::lock_guard lock(mutex);
    for (const auto& entry : recent) {
      if (entry.first == hash) {
        return ModuleHandle(wasmtime_module_clone(entry.second.get()));
      }
    }
    return {};
  }
  void remember_module(const std::string& hash, const ModuleHandle& module) {
    if (hash.empty()) {
      return;
    }
    std::lock_guard lock(mutex);
    std::erase_if(recent, [&](const auto& entry) { return entry.first == hash; });
    if (recent.size() == kRecentModules) {
      recent.pop_front();
    }
    recent.emplace_back(hash, ModuleHandle(wasmtime_module_clone(module.get())));
  }
};

Result<std::unique_ptr<Runtime>> Runtime::create(RuntimeConfig config) {
  auto engine = Engine::create(std::move(config));
  if (!engine) {
    return std::move(engine).error();
  }
  auto state = std::make_unique<State>();
  state->code_cache = std::make_unique<ModuleCache>((*engine)->config().module_cache,
                                                    compile_settings((*engine)->config()), (*engine)->logs());
  constexpr AbiProfile kProfiles[] = {AbiProfile::Native, AbiProfile::CcLb, AbiProfile::Rustcdc, AbiProfile::Kestrel};
  // Embedder functions go into every profile's linker, so they must not
  // clash with a built-in of any profile.
  const std::vector<HostFunction>& embedder = (*engine)->config().host_functions;
  std::vector<HostFuncDef> builtins;
  for (AbiProfile profile : kProfiles) {
    auto defs = host_functions_for(abi_spec(profile));
    builtins.insert(builtins.end(), defs.begin(), defs.end());
  }
  if (auto checked = check_embedder_functions(embedder, builtins); !checked) {
    return std::move(checked).error();
  }
  state->embedder = embedder_defs(embedder);
  for (AbiProfile profile : kProfiles) {
    State::Profile p;
    p.imports = host_functions_for(abi_spec(profile));
    p.linker = LinkerHandle(wasmtime_linker_new((*engine)->raw()));
    if (auto defined = define_all(p.linker.get(), p.imports); !defined) {
      return std::move(defined).error();
    }
    if (auto defined = define_embedder_functions(p.linker.get(), embedder); !defined) {
      return std::move(defined).error();
    }
    // One linker per profile holds every function a plugin of it may be
    // granted; admission decides what each plugin imports (LoadOptions::wasi).
    if (auto defined = define_all(p.linker.get(), wasi_host_functions()); !defined) {
      return std::move(defined).error();
    }
    state->profiles.emplace(profile, std::move(p));
  }
  return std::unique_ptr<Runtime>(
      new Runtime(std::shared_ptr<Engine>(std::move(engine).value()), std::move(state)));
}

Runtime::Runtime(std::shared_ptr<Engine> engine, std::unique_ptr<State> state)
    : engine_(std::move(engine)), state_(std::move(state)) {}

// Queued retirements are dropped without wp_shutdown from here on; plugins
// that outlive the Runtime drop their instances at once.
Runtime::~Runtime() { engine_->retirer().stop(); }

bool Runtime::quiesce(std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  if (!engine_->retirer().quiesce(timeout)) {
    return false;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  return engine_->logs().flush(std::max(left, std::chrono::milliseconds(0)));
}

const RuntimeConfig& Runtime::config() const noexcept { return engine_->config(); }

ModuleCacheStats Runtime::module_cache_stats() const noexcept { return state_->code_cache->stats(); }

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
                                   const LoadOptions& options, const ImportRules& imports,
                                   std::string hash, ModuleHandle precompiled, ModuleCache& cache,
                                   const std::string& module_hash) {
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
  // Bound what compiling may cost before the engine starts.
  if (auto bounded = check_compile_cost(wasm, engine.config().compile); !bounded) {
    Error e = std::move(bounded).error();
    e.plugin = options.name;
    return e;
  }
  wasmtime_module_t* raw = precompiled.release();
  if (wasmtime_error_t* error =
          raw != nullptr ? nullptr : cache.compile(engine.raw(), module_hash, wasm, &raw)) {
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
  const ImportPolicy policy{imports.allowed, wasi_host_functions(), options.wasi, imports.not_granted};
  out.admission =
      admit(out.module.get(), *sections, abi_spec(options.abi), policy, options.limits, options.required_hooks);
  out.admission.report.content_hash = std::move(hash);
  return out;
}

}  // namespace

Result<AdmissionReport> Runtime::inspect(std::span<const std::uint8_t> wasm, const LoadOptions& options) {
  return guard_exceptions(options.name, Phase::Admit, [&]() -> Result<AdmissionReport> {
    if (std::string bad = unsupported_required_hook(abi_spec(options.abi), options.required_hooks); !bad.empty()) {
      return Error{ErrorKind::InvalidArgument, Phase::Load, options.name, {}, std::move(bad)};
    }
    auto rules = state_->import_rules_for(options);
    if (!rules) {
      return std::move(rules).error();
    }
    const std::string module = state_->module_hash_within(wasm, engine_->config().max_module_bytes);
    auto compiled = compile_and_admit(*engine_, wasm, options, *rules,
                                      module.empty() ? std::string() : content_hash(module, options),
                                      state_->recent_module(module), *state_->code_cache, module);
    if (!compiled) {
      return std::move(compiled).error();
    }
    state_->remember_module(module, compiled->module);
    return std::move(compiled->admission.report);
  });
}

Result<std::shared_ptr<const Plugin>> Runtime::load(std::span<const std::uint8_t> wasm,
                                                    const LoadOptions& options) {
  return guard_exceptions(options.name, Phase::Load, [&] { return load_checked(wasm, options); });
}

Result<std::shared_ptr<const Plugin>> Runtime::load_checked(std::span<const std::uint8_t> wasm,
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
  if (limits.cpu_deadline && limits.cpu_deadline->count() <= 0) {
    return invalid("the CPU deadline must be positive");
  }
  if (limits.fuel && !config.enable_fuel) {
    return invalid("a fuel budget needs RuntimeConfig::enable_fuel");
  }
  if (std::string bad = unsupported_required_hook(abi_spec(options.abi), options.required_hooks); !bad.empty()) {
    return invalid(std::move(bad));
  }
  if (options.isolation == Isolation::Warm &&
      (options.pool.max_instances == 0 || options.pool.max_instances > config.max_instances)) {
    return invalid("pool.max_instances must be in 1.." + std::to_string(config.max_instances) +
                   " (RuntimeConfig::max_instances), got " + std::to_string(options.pool.max_instances));
  }

  auto rules = state_->import_rules_for(options);
  if (!rules) {
    return std::move(rules).error();
  }

  // Same name and content as a live plugin: no need to compile again (this
  // makes re-registering a known version, e.g. a hot-swap back, cheap).
  const std::string module = state_->module_hash_within(wasm, config.max_module_bytes);
  std::string hash = module.empty() ? std::string() : content_hash(module, options);
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
  auto compiled = compile_and_admit(*engine_, wasm, options, *rules, std::move(hash),
                                    state_->recent_module(module), *state_->code_cache, module);
  if (!compiled) {
    return std::move(compiled).error();
  }
  state_->remember_module(module, compiled->module);
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
  const AbiSpec& spec = abi_spec(options.abi);
  code->memory_name = spec.memory_export;
  for (const ExportSpec& e : spec.exports) {
    code->export_name.push_back(e.name);
  }

  std::lock_guard lock(state_->mutex);
  if (auto it = state_->cache.find(key); it != state_->cache.end()) {
    if (auto cached = it->second.lock()) {
      return cached;  // another thread loaded the same content meanwhile
    }
  }
  // ReleasePlugin: its warm instances are shut down off the releasing thread.
  std::shared_ptr<const Plugin> plugin(
      new Plugin(options.name, state_->next_version++, options, std::move(report), std::move(code)), ReleasePlugin{});
  std::erase_if(state_->cache, [](const auto& entry) { return entry.second.expired(); });
  state_->cache[key] = plugin;
  return std::shared_ptr<const Plugin>(plugin);
}

Result<std::shared_ptr<const Plugin>> Runtime::load_file(const std::filesystem::path& path,
                                                         const LoadOptions& options) {
  return guard_exceptions(options.name, Phase::Load, [&]() -> Result<std::shared_ptr<const Plugin>> {
    auto bytes = read_module_file(path, engine_->config().max_module_bytes);
    if (!bytes) {
      Error e = std::move(bytes).error();
      e.plugin = options.name;
      return e;
    }
    return load(*bytes, options);
  });
}

Result<std::shared_ptr<const torvyn::Component>> Runtime::load_component(std::span<const std::uint8_t> wasm,
                                                                         const torvyn::ComponentOptions& options) {
  return guard_exceptions(options.name, Phase::Load,
                          [&] { return detail::load_component(engine_, *state_->code_cache, wasm, options); });
}

Result<std::shared_ptr<const torvyn::Component>> Runtime::load_component_file(
    const std::filesystem::path& path, const torvyn::ComponentOptions& options) {
  return guard_exceptions(options.name, Phase::Load, [&]() -> Result<std::shared_ptr<const torvyn::Component>> {
    auto bytes = read_module_file(path, engine_->config().max_module_bytes);
    if (!bytes) {
      Error e = std::move(bytes).error();
      e.plugin = options.name;
      return e;
    }
    return load_component(*bytes, options);
  });
}

Result<torvyn::ComponentReport> Runtime::inspect_component(std::span<const std::uint8_t> wasm,
                                                           const torvyn::ComponentOptions& options) {
  return guard_exceptions(options.name, Phase::Admit,
                          [&] { return detail::inspect_component(*engine_, *state_->code_cache, wasm, options); });
}

Result<std::shared_ptr<const torvyn::Component>> Runtime::deserialize_component(
    std::span<const std::uint8_t> serialized, const torvyn::ComponentOptions& options) {
  return guard_exceptions(options.name, Phase::Load,
                          [&] { return detail::deserialize_component(engine_, serialized, options); });
}

Result<void> Runtime::prepare(const Plugin& plugin) const { return detail::prepare(*engine_, plugin); }

Result<Output> Runtime::call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input) const {
  // No exception may leave the API; the only one expected here is
  // bad_alloc copying an output, and catching costs nothing when none is thrown.
  try {
    return dispatch_call(*engine_, plugin, hook, input);
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::LimitExceeded, Phase::Read, plugin.name(), std::string(to_string(hook)),
                 "the host ran out of memory during the call"};
  }
}

Result<std::unique_ptr<Session>> Runtime::open_session(std::shared_ptr<const Plugin> plugin) const {
  if (!plugin) {
    return Error{ErrorKind::InvalidArgument, Phase::Instantiate, "", "", "open_session: the plugin is null"};
  }
  const std::string name = plugin->name();
  return guard_exceptions(name, Phase::Instantiate, [&]() -> Result<std::unique_ptr<Session>> {
    auto core = detail::SessionCore::open(*engine_, std::move(plugin));
    if (!core) {
      return std::move(core).error();
    }
    return std::unique_ptr<Session>(new Session(*engine_, std::move(core).value()));
  });
}

Session::Session(const detail::Engine& engine, std::unique_ptr<detail::SessionCore> core)
    : engine_(&engine), core_(std::move(core)) {}

Session::~Session() = default;

const Plugin& Session::plugin() const noexcept { return core_->plugin(); }

std::uint64_t Session::instances_created() const noexcept { return core_->instances_created(); }

Result<Output> Session::call(Hook hook, std::span<const std::uint8_t> input) {
  try {
    return detail::dispatch_session_call(*engine_, *core_, hook, input);
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::LimitExceeded, Phase::Read, core_->plugin().name(), std::string(to_string(hook)),
                 "the host ran out of memory during the call"};
  }
}

}  // namespace wasmplug
