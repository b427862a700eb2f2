// The torvyn profile on the C++ side: admission report, options
// validation, the compiled-code cache, and the per-call error policy around
// the Rust host's C interface (torvyn_ffi.h).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "admission/hash.hpp"
#include "cache/module_cache.hpp"
#include "component/torvyn_code.hpp"
#include "engine/log_queue.hpp"
#include "wasmplug/metrics.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::torvyn {

std::string_view to_string(World world) noexcept {
  switch (world) {
    case World::Transform: return "transform";
    case World::ManagedTransform: return "managed-transform";
    case World::DataSource: return "data-source";
    case World::DataSink: return "data-sink";
  }
  return "?";
}

std::optional<World> parse_world(std::string_view name) noexcept {
  for (World w : {World::Transform, World::ManagedTransform, World::DataSource, World::DataSink}) {
    if (to_string(w) == name) {
      return w;
    }
  }
  return std::nullopt;
}

bool has_lifecycle(World world) noexcept { return world != World::Transform; }

std::string_view to_string(ProcessErrorCase c) noexcept {
  switch (c) {
    case ProcessErrorCase::InvalidInput: return "invalid-input";
    case ProcessErrorCase::Unavailable: return "unavailable";
    case ProcessErrorCase::Internal: return "internal";
    case ProcessErrorCase::DeadlineExceeded: return "deadline-exceeded";
    case ProcessErrorCase::Fatal: return "fatal";
  }
  return "?";
}

}  // namespace wasmplug::torvyn

namespace wasmplug::detail {
namespace {

using torvyn::ComponentOptions;
using torvyn::ComponentReport;

Error error(ErrorKind kind, Phase phase, const std::string& plugin, std::string hook, std::string message,
            TrapCode trap = TrapCode::None) {
  return Error{kind, phase, plugin, std::move(hook), std::move(message), trap};
}

Result<void> validate(const Engine& engine, const ComponentOptions& o) {
  auto bad = [&](const std::string& what) { return error(ErrorKind::InvalidArgument, Phase::Config, o.name, "", what); };
  const RuntimeConfig& config = engine.config();
  const Limits& l = o.limits;
  if (l.memory_bytes == 0 || l.memory_bytes % (64u << 10) != 0 || l.memory_bytes > config.max_memory_bytes) {
    return bad("limits.memory_bytes must be a multiple of 64 KiB in 64 KiB..RuntimeConfig::max_memory_bytes (" +
               std::to_string(config.max_memory_bytes) + "), got " + std::to_string(l.memory_bytes));
  }
  if (l.table_elements == 0 || l.table_elements > config.max_table_elements) {
    return bad("limits.table_elements must be in 1..RuntimeConfig::max_table_elements, got " +
               std::to_string(l.table_elements));
  }
  if (l.deadline <= std::chrono::milliseconds(0) || l.deadline > std::chrono::hours(1)) {
    return bad("limits.deadline must be in 1 ms..1 h, got " + std::to_string(l.deadline.count()) + " ms");
  }
  if (l.cpu_deadline && (*l.cpu_deadline <= std::chrono::milliseconds(0) || *l.cpu_deadline > std::chrono::hours(1))) {
    return bad("limits.cpu_deadline must be in 1 ms..1 h, got " + std::to_string(l.cpu_deadline->count()) + " ms");
  }
  if (l.fuel && !config.enable_fuel) {
    return bad("limits.fuel needs RuntimeConfig::enable_fuel");
  }
  if (l.max_input_bytes == 0 || l.max_output_bytes == 0) {
    return bad("limits.max_input_bytes and limits.max_output_bytes must be positive");
  }
  if (o.buffers.max_buffer_bytes == 0 || o.buffers.max_buffer_bytes > (16u << 20)) {
    return bad("buffers.max_buffer_bytes must be in 1..16 MiB, got " + std::to_string(o.buffers.max_buffer_bytes));
  }
  if (o.buffers.budget_bytes < (4u << 10) || o.buffers.budget_bytes > (4ull << 30)) {
    return bad("buffers.budget_bytes must be in 4 KiB..4 GiB, got " + std::to_string(o.buffers.budget_bytes));
  }
  if (o.errors.breaker_cooldown < std::chrono::milliseconds(0)) {
    return bad("errors.breaker_cooldown must not be negative");
  }
  if (o.name.empty()) {
    return bad("name must not be empty");
  }
  return {};
}

/// Parses wasmplug_tv_admit's report lines.
ComponentReport parse_report(const std::string& text, torvyn::World world, std::string hash) {
  ComponentReport report;
  report.world = world;
  report.content_hash = std::move(hash);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      continue;
    }
    const std::string_view tag = line.substr(0, tab);
    const std::string_view rest = line.substr(tab + 1);
    if (tag == "problem") {
      report.problems.emplace_back(rest);
      continue;
    }
    const std::size_t tab2 = rest.find('\t');
    ExternInfo info;
    info.name = std::string(rest.substr(0, tab2));
    info.kind = tab2 == std::string_view::npos ? std::string() : std::string(rest.substr(tab2 + 1));
    (tag == "import" ? report.imports : report.exports).push_back(std::move(info));
  }
  return report;
}

Error rejected(const ComponentOptions& o, const ComponentReport& report) {
  std::string message = "rejected as world " + std::string(to_string(o.world)) + ": ";
  for (std::size_t i = 0; i < report.problems.size(); ++i) {
    message += (i == 0 ? "" : "; ") + report.problems[i];
  }
  return error(ErrorKind::Rejected, Phase::Admit, o.name, "", std::move(message));
}

struct Compiled {
  TvComponentHandle component;
  ComponentReport report;
};

/// Compile (through the cache) and admit.
Result<Compiled> compile_and_admit(const Engine& engine, ModuleCache& cache, std::span<const std::uint8_t> wasm,
                                   const ComponentOptions& o) {
  if (auto ok = validate(engine, o); !ok) {
    return std::move(ok).error();
  }
  if (wasm.size() > engine.config().max_module_bytes) {
    return error(ErrorKind::Rejected, Phase::Load, o.name, "",
                 "the component has " + std::to_string(wasm.size()) + " bytes, more than RuntimeConfig::max_module_bytes (" +
                     std::to_string(engine.config().max_module_bytes) + ")");
  }
  std::string hash = module_hash(wasm);
  wasmplug_tv_component* raw = nullptr;
  std::string compile_error;
  const bool made = cache.compile_component(
      hash,
      [&](std::span<const std::uint8_t> code) {
        TvBytes err;
        return wasmplug_tv_deserialize(engine.raw(), code.data(), code.size(), &raw, err.out());
      },
      [&] {
        TvBytes err;
        if (!wasmplug_tv_compile(engine.raw(), wasm.data(), wasm.size(), &raw, err.out())) {
          compile_error = err.text();
          return false;
        }
        return true;
      },
      [&] {
        TvBytes out;
        TvBytes err;
        if (!wasmplug_tv_serialize(raw, out.out(), err.out())) {
          return std::vector<std::uint8_t>();
        }
        return std::vector<std::uint8_t>(out.span().begin(), out.span().end());
      });
  if (!made) {
    return error(ErrorKind::CompileFailed, Phase::Compile, o.name, "",
                 "not a valid WebAssembly component: " + compile_error);
  }
  TvComponentHandle component(raw);
  TvBytes report_text;
  wasmplug_tv_admit(component.get(), static_cast<std::uint32_t>(o.world), o.wasi, report_text.out());
  return Compiled{std::move(component), parse_report(report_text.text(), o.world, std::move(hash))};
}

Result<std::shared_ptr<const torvyn::Component>> make_component(const std::shared_ptr<const Engine>& engine,
                                                                 Compiled compiled, const ComponentOptions& o) {
  if (!compiled.report.admitted()) {
    return rejected(o, compiled.report);
  }
  auto code = std::make_unique<ComponentCode>();
  code->engine = engine;
  code->component = std::move(compiled.component);
  return std::shared_ptr<const torvyn::Component>(
      std::make_shared<torvyn::Component>(o, std::move(compiled.report), std::move(code)));
}

}  // namespace

Result<std::shared_ptr<const torvyn::Component>> load_component(const std::shared_ptr<const Engine>& engine,
                                                                ModuleCache& cache, std::span<const std::uint8_t> wasm,
                                                                const ComponentOptions& options) {
  auto compiled = compile_and_admit(*engine, cache, wasm, options);
  if (!compiled) {
    return std::move(compiled).error();
  }
  return make_component(engine, std::move(compiled).value(), options);
}

Result<ComponentReport> inspect_component(const Engine& engine, ModuleCache& cache, std::span<const std::uint8_t> wasm,
                                          const ComponentOptions& options) {
  auto compiled = compile_and_admit(engine, cache, wasm, options);
  if (!compiled) {
    return std::move(compiled).error();
  }
  return std::move(compiled->report);
}

Result<std::shared_ptr<const torvyn::Component>> deserialize_component(const std::shared_ptr<const Engine>& engine,
                                                                       std::span<const std::uint8_t> serialized,
                                                                       const ComponentOptions& options) {
  if (auto ok = validate(*engine, options); !ok) {
    return std::move(ok).error();
  }
  wasmplug_tv_component* raw = nullptr;
  TvBytes err;
  if (!wasmplug_tv_deserialize(engine->raw(), serialized.data(), serialized.size(), &raw, err.out())) {
    return error(ErrorKind::CompileFailed, Phase::Load, options.name, "",
                 "not a component this engine serialized: " + err.text());
  }
  TvComponentHandle component(raw);
  TvBytes report_text;
  wasmplug_tv_admit(component.get(), static_cast<std::uint32_t>(options.world), options.wasi, report_text.out());
  return make_component(engine,
                        Compiled{std::move(component), parse_report(report_text.text(), options.world, std::string())},
                        options);
}

}  // namespace wasmplug::detail

namespace wasmplug::torvyn {

using detail::TorvynInstanceState;
using detail::TvBytes;
using detail::TvInstanceHandle;

Component::Component(ComponentOptions options, ComponentReport report, std::unique_ptr<detail::ComponentCode> code)
    : options_(std::move(options)), report_(std::move(report)), code_(std::move(code)) {}

Component::~Component() = default;

Result<std::vector<std::uint8_t>> Component::serialize() const {
  TvBytes out;
  TvBytes err;
  if (!wasmplug_tv_serialize(code_->component.get(), out.out(), err.out())) {
    return Error{ErrorKind::InvalidArgument, Phase::Compile, name(), "", "cannot serialize: " + err.text(),
                 TrapCode::None};
  }
  return std::vector<std::uint8_t>(out.span().begin(), out.span().end());
}

namespace {

std::string_view view(const char* p, std::size_t n) { return p == nullptr ? std::string_view() : std::string_view(p, n); }

TrapCode trap_of(std::uint32_t code) {
  return code <= static_cast<std::uint32_t>(TrapCode::Other) ? static_cast<TrapCode>(code) : TrapCode::Other;
}

/// The error of a failed outcome (anything but OK, PROCESS_ERROR, DEAD).
Error outcome_error(const wasmplug_tv_outcome& out, const Component& c, std::string_view hook, Phase phase) {
  const std::string message(view(out.message, out.message_len));
  const std::string h(hook);
  switch (out.status) {
    case WASMPLUG_TV_TRAP: {
      const TrapCode trap = trap_of(out.detail);
      if (trap == TrapCode::Interrupt && out.cpu_overrun != 0) {
        return Error{ErrorKind::Timeout, phase, c.name(), h,
                     "the call used up its CPU deadline of " +
                         std::to_string(c.options().limits.cpu_deadline.value_or(std::chrono::milliseconds(0)).count()) +
                         " ms: " + message,
                     trap};
      }
      if (trap == TrapCode::Interrupt) {
        return Error{ErrorKind::Timeout, phase, c.name(), h,
                     "the call ran past its deadline of " + std::to_string(c.options().limits.deadline.count()) +
                         " ms: " + message,
                     trap};
      }
      if (trap == TrapCode::OutOfFuel) {
        return Error{ErrorKind::OutOfFuel, phase, c.name(), h, "the call used up its fuel: " + message, trap};
      }
      if (out.memory_denied != 0) {
        return Error{ErrorKind::MemoryLimit, phase, c.name(), h,
                     "the guest failed after its linear memory reached limits.memory_bytes (" +
                         std::to_string(c.options().limits.memory_bytes) + "): " + message,
                     trap};
      }
      return Error{ErrorKind::Trap, phase, c.name(), h, "the guest trapped: " + message, trap};
    }
    case WASMPLUG_TV_HOST_FAULT:
      return Error{ErrorKind::AbiViolation, phase, c.name(), h, "the guest broke the torvyn contract: " + message,
                   TrapCode::HostTrap};
    case WASMPLUG_TV_OUTPUT_TOO_LARGE:
      return Error{ErrorKind::LimitExceeded, Phase::Read, c.name(), h, message, TrapCode::None};
    case WASMPLUG_TV_WRONG_WORLD:
      return Error{ErrorKind::InvalidArgument, phase, c.name(), h,
                   "world " + std::string(to_string(c.world())) + " has no " + std::string(hook) + ": " + message,
                   TrapCode::None};
    default:
      return Error{ErrorKind::InstantiateFailed, phase, c.name(), h, message, TrapCode::None};
  }
}

wasmplug_tv_limits limits_of(const detail::Engine& engine, const ComponentOptions& o) {
  wasmplug_tv_limits l{};
  l.memory_bytes = o.limits.memory_bytes;
  l.table_elements = o.limits.table_elements;
  l.max_buffer_bytes = o.buffers.max_buffer_bytes;
  l.buffer_budget_bytes = o.buffers.budget_bytes;
  l.max_output_bytes = o.limits.max_output_bytes;
  const auto deadline = std::chrono::duration_cast<std::chrono::nanoseconds>(o.limits.deadline);
  l.deadline_ns = static_cast<std::uint64_t>(deadline.count());
  l.epoch_ticks = engine.epoch_ticks(deadline);
  if (o.limits.cpu_deadline) {
    // The first look at the clocks comes by the earlier of the two budgets.
    const auto cpu = std::chrono::duration_cast<std::chrono::nanoseconds>(*o.limits.cpu_deadline);
    l.cpu_deadline_ns = static_cast<std::uint64_t>(cpu.count());
    l.epoch_ticks = std::min(l.epoch_ticks, engine.epoch_ticks(cpu));
  }
  l.fuel_enabled = engine.config().enable_fuel ? 1u : 0u;
  l.fuel_metered = o.limits.fuel ? 1u : 0u;
  l.fuel = o.limits.fuel.value_or(0);
  l.wasi_log_bytes = engine.config().max_log_bytes_per_call;
  return l;
}

/// WASI stdout/stderr of the call that just ended (the WASI grant) as log
/// records of the component, one per line, at Info, under the runtime's
/// per-call log budget (RuntimeConfig::max_log_*), escaped like any guest
/// text. A line still open at the end of the call is delivered as it is.
void drain_wasi_log(const detail::Engine& engine, const Component& c, wasmplug_tv_instance* instance) {
  if (!c.options().wasi || instance == nullptr) {
    return;
  }
  TvBytes out;
  std::uint64_t dropped = 0;
  wasmplug_tv_take_log(instance, out.out(), &dropped);
  std::string_view text(reinterpret_cast<const char*>(out.span().data()), out.span().size());
  if (text.empty() && dropped == 0) {
    return;
  }
  const RuntimeConfig& config = engine.config();
  detail::LogBudget budget;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    std::string message = detail::escape_guest_text(line, config.max_log_message_bytes);
    if (budget.admit(message.size(), line.size(), config)) {
      engine.logs().push(c.name(), LogLevel::Info, std::move(message));
    }
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  if (dropped != 0) {
    budget.drop(dropped);
  }
  budget.close(engine.logs(), c.name(), config);
}

Hook metrics_hook(std::string_view hook) {
  return hook == "push" || hook == "complete" ? Hook::Observe : Hook::Transform;
}

}  // namespace

Result<std::unique_ptr<Instance>> Component::instantiate() const {
  const detail::Engine& engine = *code_->engine;
  auto state = std::make_unique<TorvynInstanceState>();
  state->engine = &engine;
  state->limits = limits_of(engine, options_);
  auto instance = std::make_unique<Instance>(shared_from_this(), std::move(state));
  // Instantiation (and init) happens here, so that a component that cannot
  // start is refused at once rather than on its first element.
  if (auto ready = instance->notify_ready(); !ready) {
    return std::move(ready).error();
  }
  return instance;
}

Instance::Instance(std::shared_ptr<const Component> component, std::unique_ptr<TorvynInstanceState> state)
    : component_(std::move(component)), state_(std::move(state)) {}

Instance::~Instance() {
  if (state_ != nullptr && state_->instance && !state_->torn_down && has_lifecycle(component_->world())) {
    static_cast<void>(teardown());
  }
}

Result<void> Instance::notify_ready() { return ensure_instance(); }

Result<void> Instance::ensure_instance() {
  TorvynInstanceState& s = *state_;
  if (s.instance) {
    return {};
  }
  const Component& c = *component_;
  if (!s.slot_held) {
    if (!s.engine->slots().try_acquire()) {
      if (const auto& m = s.engine->config().metrics) {
        m->on_pool_saturated(c.name());
      }
      return Error{ErrorKind::PoolSaturated, Phase::Instantiate, c.name(), "",
                   "every instance slot is in use (RuntimeConfig::max_instances = " +
                       std::to_string(s.engine->config().max_instances) + ")",
                   TrapCode::None};
    }
    s.slot = detail::SlotLease(&s.engine->slots());
    s.slot_held = true;
  }
  wasmplug_tv_instance* raw = nullptr;
  TvBytes err;
  const std::uint32_t status = wasmplug_tv_instantiate(c.code().component.get(), &s.limits, &raw, err.out());
  if (status != WASMPLUG_TV_OK) {
    s.slot.reset();
    s.slot_held = false;
    std::string message = err.text();
    const bool pool = message.find("maximum concurrent") != std::string::npos ||
                      message.find("pooling") != std::string::npos;
    return Error{pool ? ErrorKind::PoolSaturated : ErrorKind::InstantiateFailed, Phase::Instantiate, c.name(), "",
                 "cannot instantiate: " + message, TrapCode::None};
  }
  s.instance = TvInstanceHandle(raw);
  if (const auto& m = s.engine->config().metrics) {
    m->on_instantiate(c.name());
  }
  if (has_lifecycle(c.world())) {
    wasmplug_tv_outcome out{};
    const std::string& config = c.options().config;
    wasmplug_tv_init(s.instance.get(), config.data(), config.size(), &out);
    drain_wasi_log(*s.engine, c, s.instance.get());
    ++s.stats.calls;
    if (out.status != WASMPLUG_TV_OK) {
      ++s.stats.failures;
      Error e = out.status == WASMPLUG_TV_PROCESS_ERROR
                    ? Error{ErrorKind::GuestError, Phase::Init, c.name(), "init",
                            "init refused its config: " +
                                std::string(to_string(static_cast<ProcessErrorCase>(std::min(out.detail, 4u)))) + ": " +
                                std::string(view(out.message, out.message_len)),
                            TrapCode::None}
                    : outcome_error(out, c, "init", Phase::Init);
      // An instance whose init failed never takes an element.
      s.instance.reset();
      s.slot.reset();
      s.slot_held = false;
      return e;
    }
  }
  return {};
}

template <class Call>
Result<const wasmplug_tv_outcome*> Instance::guest_call(std::string_view hook, Call&& call) {
  TorvynInstanceState& s = *state_;
  const Component& c = *component_;
  s.last_case.reset();
  if (s.fatal || s.torn_down) {
    return Error{ErrorKind::GuestError, Phase::Call, c.name(), std::string(hook),
                 s.fatal ? "the instance returned fatal earlier and was torn down: it takes nothing more"
                         : "the instance was torn down: it takes nothing more",
                 TrapCode::None};
  }
  if (c.options().errors.breaker_failures != 0 &&
      s.consecutive_unavailable >= c.options().errors.breaker_failures &&
      std::chrono::steady_clock::now() < s.breaker_open_until) {
    ++s.stats.breaker_trips;
    return Error{ErrorKind::Tripped, Phase::Call, c.name(), std::string(hook),
                 "circuit breaker open after " + std::to_string(s.consecutive_unavailable) +
                     " consecutive unavailable errors; retry after errors.breaker_cooldown",
                 TrapCode::None};
  }
  if (auto ready = ensure_instance(); !ready) {
    return std::move(ready).error();
  }
  const auto& metrics = s.engine->config().metrics;
  const auto start = metrics ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  call(s.instance.get(), &s.out);
  drain_wasi_log(*s.engine, c, s.instance.get());
  ++s.stats.calls;
  Result<const wasmplug_tv_outcome*> result = classify(hook);
  if (metrics) {
    metrics->on_call(CallEvent{c.name(), metrics_hook(hook), std::chrono::steady_clock::now() - start,
                               result ? nullptr : &result.error(), nullptr});
  }
  return result;
}

Result<const wasmplug_tv_outcome*> Instance::classify(std::string_view hook) {
  TorvynInstanceState& s = *state_;
  const Component& c = *component_;
  const wasmplug_tv_outcome& out = s.out;
  if (out.status == WASMPLUG_TV_OK) {
    s.consecutive_unavailable = 0;
    return &out;
  }
  ++s.stats.failures;
  if (out.status == WASMPLUG_TV_PROCESS_ERROR) {
    const auto which = static_cast<ProcessErrorCase>(std::min(out.detail, 4u));
    s.last_case = which;
    const std::string message =
        std::string(to_string(which)) + (out.message_len != 0 ? ": " : "") + std::string(view(out.message, out.message_len));
    if (which != ProcessErrorCase::Unavailable) {
      s.consecutive_unavailable = 0;
    }
    switch (which) {
      case ProcessErrorCase::InvalidInput:
      case ProcessErrorCase::Internal:
        ++s.stats.skipped;
        break;
      case ProcessErrorCase::Unavailable:
        ++s.stats.unavailable;
        ++s.consecutive_unavailable;
        if (c.options().errors.breaker_failures != 0 &&
            s.consecutive_unavailable >= c.options().errors.breaker_failures) {
          s.breaker_open_until = std::chrono::steady_clock::now() + c.options().errors.breaker_cooldown;
        }
        break;
      case ProcessErrorCase::DeadlineExceeded:
        ++s.stats.timeouts;
        return Error{ErrorKind::Timeout, Phase::Call, c.name(), std::string(hook),
                     "the component reported deadline-exceeded", TrapCode::None};
      case ProcessErrorCase::Fatal: {
        Error e{ErrorKind::GuestError, Phase::Call, c.name(), std::string(hook),
                message + " (the instance is torn down and takes nothing more)", TrapCode::None};
        s.fatal = true;
        if (has_lifecycle(c.world())) {
          static_cast<void>(teardown_now());
        }
        drop_guest_instance();
        s.slot.reset();
        s.slot_held = false;
        return e;
      }
    }
    return Error{ErrorKind::GuestError, Phase::Call, c.name(), std::string(hook), message, TrapCode::None};
  }
  Error e = outcome_error(out, c, hook, Phase::Call);
  if (e.kind == ErrorKind::Timeout) {
    ++s.stats.timeouts;
  }
  if (out.dead != 0 || out.status == WASMPLUG_TV_DEAD) {
    // Wasmtime does not enter a component instance again after a trap: the
    // next call gets a new one.
    drop_guest_instance();
    ++s.stats.restarts;
  }
  return e;
}

namespace {

wasmplug_tv_element element_of(const Element& e) {
  return wasmplug_tv_element{e.payload.data(),  e.payload.size(),  e.content_type.data(), e.content_type.size(),
                             e.trace_id.data(), e.trace_id.size(), e.span_id.data(),      e.span_id.size(),
                             e.flow_id.data(),  e.flow_id.size(),  e.sequence,            e.timestamp_ns,
                             e.deadline_ns};
}

EmittedView emitted_view(const wasmplug_tv_outcome& out) {
  return EmittedView{{out.payload, out.payload_len}, view(out.content_type, out.content_type_len), out.sequence,
                     out.timestamp_ns};
}

Emitted owned(const EmittedView& v) {
  return Emitted{{v.payload.begin(), v.payload.end()}, std::string(v.content_type), v.sequence, v.timestamp_ns};
}

}  // namespace

namespace {

/// W3C trace-context ids: exactly `digits` lowercase hex digits, or empty.
bool hex_id(std::string_view id, std::size_t digits) {
  return id.empty() || (id.size() == digits && std::all_of(id.begin(), id.end(), [](char ch) {
                          return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                        }));
}

}  // namespace

Result<void> Instance::check_input(const Element& element, std::string_view hook) const {
  const Component& c = *component_;
  // The contract promises the guest 32 / 16 hex characters or empty: a bad
  // id is the embedder's mistake, refused before the guest sees it.
  if (!hex_id(element.trace_id, 32) || !hex_id(element.span_id, 16)) {
    const bool trace = !hex_id(element.trace_id, 32);
    return Error{ErrorKind::InvalidArgument, Phase::Write, c.name(), std::string(hook),
                 std::string(trace ? "Element::trace_id must be 32" : "Element::span_id must be 16") +
                     " lowercase hex digits or empty, got \"" +
                     detail::escape_guest_text(trace ? element.trace_id : element.span_id, 64) + "\"",
                 TrapCode::None};
  }
  const std::uint64_t max = std::min<std::uint64_t>(c.options().limits.max_input_bytes, c.options().buffers.max_buffer_bytes);
  if (element.payload.size() > max) {
    return Error{ErrorKind::LimitExceeded, Phase::Write, c.name(), std::string(hook),
                 "the element's payload has " + std::to_string(element.payload.size()) + " bytes, more than the " +
                     std::to_string(max) + " allowed (limits.max_input_bytes, buffers.max_buffer_bytes)",
                 TrapCode::None};
  }
  return {};
}

Result<std::optional<EmittedView>> Instance::process_view(const Element& element) {
  if (auto ok = check_input(element, "process"); !ok) {
    return std::move(ok).error();
  }
  const wasmplug_tv_element el = element_of(element);
  auto out = guest_call("process", [&](wasmplug_tv_instance* i, wasmplug_tv_outcome* o) { wasmplug_tv_process(i, &el, o); });
  if (!out) {
    return std::move(out).error();
  }
  if ((*out)->has_output == 0) {
    return std::optional<EmittedView>();
  }
  return std::optional<EmittedView>(emitted_view(**out));
}

Result<std::optional<Emitted>> Instance::process(const Element& element) {
  auto v = process_view(element);
  if (!v) {
    return std::move(v).error();
  }
  const std::optional<EmittedView>& emitted = *v;
  if (!emitted.has_value()) {
    return std::optional<Emitted>();
  }
  return std::optional<Emitted>(owned(*emitted));
}

Result<std::optional<EmittedView>> Instance::pull_view() {
  auto out = guest_call("pull", [](wasmplug_tv_instance* i, wasmplug_tv_outcome* o) { wasmplug_tv_pull(i, o); });
  if (!out) {
    return std::move(out).error();
  }
  if ((*out)->has_output == 0) {
    return std::optional<EmittedView>();
  }
  return std::optional<EmittedView>(emitted_view(**out));
}

Result<std::optional<Emitted>> Instance::pull() {
  auto v = pull_view();
  if (!v) {
    return std::move(v).error();
  }
  const std::optional<EmittedView>& emitted = *v;
  if (!emitted.has_value()) {
    return std::optional<Emitted>();
  }
  return std::optional<Emitted>(owned(*emitted));
}

Result<void> Instance::notify_backpressure(Backpressure signal) {
  auto out = guest_call("notify-backpressure", [&](wasmplug_tv_instance* i, wasmplug_tv_outcome* o) {
    wasmplug_tv_notify_backpressure(i, signal == Backpressure::Pause, o);
  });
  if (!out) {
    return std::move(out).error();
  }
  return {};
}

Result<Backpressure> Instance::push(const Element& element) {
  if (auto ok = check_input(element, "push"); !ok) {
    return std::move(ok).error();
  }
  const wasmplug_tv_element el = element_of(element);
  auto out = guest_call("push", [&](wasmplug_tv_instance* i, wasmplug_tv_outcome* o) { wasmplug_tv_push(i, &el, o); });
  if (!out) {
    return std::move(out).error();
  }
  return (*out)->detail == 1 ? Backpressure::Pause : Backpressure::Ready;
}

Result<void> Instance::complete() {
  auto out = guest_call("complete", [](wasmplug_tv_instance* i, wasmplug_tv_outcome* o) { wasmplug_tv_complete(i, o); });
  if (!out) {
    return std::move(out).error();
  }
  return {};
}

void Instance::drop_guest_instance() noexcept {
  TorvynInstanceState& s = *state_;
  std::uint64_t fuel = 0;
  if (s.instance && s.engine->config().enable_fuel && wasmplug_tv_fuel_remaining(s.instance.get(), &fuel)) {
    s.fuel_left = fuel;
  }
  s.instance.reset();
}

Result<void> Instance::teardown_now() {
  TorvynInstanceState& s = *state_;
  const Component& c = *component_;
  s.torn_down = true;
  if (!s.instance) {
    return {};
  }
  wasmplug_tv_outcome out{};
  wasmplug_tv_teardown(s.instance.get(), &out);
  drain_wasi_log(*s.engine, c, s.instance.get());
  ++s.stats.calls;
  Result<void> result;
  if (out.status != WASMPLUG_TV_OK) {
    ++s.stats.failures;
    Error e = outcome_error(out, c, "teardown", Phase::Shutdown);
    // Never blocks shutdown: logged, returned, and the instance goes anyway.
    s.engine->logs().push(c.name(), LogLevel::Warn, "teardown failed: " + e.to_string());
    result = std::move(e);
  }
  s.instance.reset();
  s.slot.reset();
  s.slot_held = false;
  return result;
}

Result<void> Instance::teardown() {
  TorvynInstanceState& s = *state_;
  const Component& c = *component_;
  if (s.torn_down || s.fatal) {
    return Error{ErrorKind::InvalidArgument, Phase::Shutdown, c.name(), "teardown", "the instance was torn down already",
                 TrapCode::None};
  }
  if (!has_lifecycle(c.world())) {
    s.torn_down = true;
    s.instance.reset();
    s.slot.reset();
    s.slot_held = false;
    return {};
  }
  return teardown_now();
}

Result<void> Instance::set_fuel(std::uint64_t fuel) {
  TorvynInstanceState& s = *state_;
  if (!s.engine->config().enable_fuel) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, component_->name(), "",
                 "set_fuel needs RuntimeConfig::enable_fuel", TrapCode::None};
  }
  s.limits.fuel = fuel;
  s.limits.fuel_metered = 1;
  if (s.instance) {
    wasmplug_tv_set_fuel(s.instance.get(), fuel);
  }
  return {};
}

Result<std::uint64_t> Instance::fuel_remaining() const {
  const TorvynInstanceState& s = *state_;
  std::uint64_t fuel = 0;
  if (!s.engine->config().enable_fuel) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, component_->name(), "",
                 "fuel_remaining needs RuntimeConfig::enable_fuel", TrapCode::None};
  }
  if (s.instance && wasmplug_tv_fuel_remaining(s.instance.get(), &fuel)) {
    return fuel;
  }
  return s.fuel_left.value_or(s.limits.fuel);
}

MemoryUsage Instance::memory_usage() const noexcept {
  const TorvynInstanceState& s = *state_;
  if (!s.instance) {
    return MemoryUsage{0, 0, s.limits.buffer_budget_bytes, 0};
  }
  wasmplug_tv_memory m{};
  wasmplug_tv_memory_usage(s.instance.get(), &m);
  return MemoryUsage{m.linear_memory_bytes, m.buffer_bytes, m.buffer_budget_bytes, m.budget_denials};
}

InstanceStats Instance::stats() const noexcept { return state_->stats; }

std::optional<ProcessErrorCase> Instance::last_process_error() const noexcept { return state_->last_case; }

bool Instance::usable() const noexcept { return !state_->fatal && !state_->torn_down; }

Result<std::unique_ptr<ComponentSlot>> ComponentSlot::create(std::shared_ptr<const Component> initial) {
  if (!initial) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, "", "", "ComponentSlot needs a component", TrapCode::None};
  }
  return std::unique_ptr<ComponentSlot>(new ComponentSlot(std::move(initial)));
}

ComponentSlot::ComponentSlot(std::shared_ptr<const Component> initial) : current_(std::move(initial)) {}

std::shared_ptr<const Component> ComponentSlot::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

Result<std::uint64_t> ComponentSlot::swap(std::shared_ptr<const Component> next) {
  std::lock_guard lock(mutex_);
  if (!next || next->world() != current_->world()) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, current_->name(), "",
                 next ? "cannot swap in a component of world " + std::string(to_string(next->world())) +
                            " for one of world " + std::string(to_string(current_->world()))
                      : std::string("cannot swap in a null component"),
                 TrapCode::None};
  }
  previous_ = std::exchange(current_, std::move(next));
  if (const auto& m = current_->code().engine->config().metrics) {
    m->on_swap(current_->name());
  }
  return version_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

Result<std::uint64_t> ComponentSlot::rollback() {
  std::lock_guard lock(mutex_);
  if (!previous_) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, current_->name(), "", "no previous component to roll back to",
                 TrapCode::None};
  }
  std::swap(current_, previous_);
  return version_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

Result<std::pair<std::unique_ptr<Instance>, std::uint64_t>> ComponentSlot::instantiate() const {
  std::shared_ptr<const Component> component;
  std::uint64_t version = 0;
  {
    std::lock_guard lock(mutex_);
    component = current_;
    version = version_.load(std::memory_order_acquire);
  }
  auto instance = component->instantiate();
  if (!instance) {
    return std::move(instance).error();
  }
  return std::pair{std::move(instance).value(), version};
}

}  // namespace wasmplug::torvyn
