#include "instance/instance.hpp"

#include <limits>
#include <string>

#include "instance/plugin_code.hpp"
#include "engine/failure.hpp"
#include "engine/native_stack.hpp"

namespace wasmplug::detail {

namespace {

constexpr std::uint64_t kWasmPage = 64u << 10;

TrapCode to_trap_code(wasmtime_trap_code_t code) {
  switch (code) {
    case WASMTIME_TRAP_CODE_STACK_OVERFLOW: return TrapCode::StackOverflow;
    case WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS: return TrapCode::MemoryOutOfBounds;
    case WASMTIME_TRAP_CODE_HEAP_MISALIGNED: return TrapCode::HeapMisaligned;
    case WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS: return TrapCode::TableOutOfBounds;
    case WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL: return TrapCode::IndirectCallToNull;
    case WASMTIME_TRAP_CODE_BAD_SIGNATURE: return TrapCode::BadSignature;
    case WASMTIME_TRAP_CODE_INTEGER_OVERFLOW: return TrapCode::IntegerOverflow;
    case WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO: return TrapCode::IntegerDivisionByZero;
    case WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER: return TrapCode::BadConversionToInteger;
    case WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED: return TrapCode::Unreachable;
    case WASMTIME_TRAP_CODE_INTERRUPT: return TrapCode::Interrupt;
    case WASMTIME_TRAP_CODE_OUT_OF_FUEL: return TrapCode::OutOfFuel;
    default: return TrapCode::Other;
  }
}

std::string mib(std::uint64_t bytes) {
  if (bytes % (1u << 20) == 0) {
    return std::to_string(bytes >> 20) + " MiB";
  }
  return std::to_string(bytes) + " bytes";
}

// Calibration error allowed for when a deadline is counted in TSC ticks
// (measured calibration error is ~1e-5): the call may end this fraction of
// its deadline late, never early.
constexpr double kClockMargin = 1e-3;

// Runs when a call reaches its armed epoch deadline: decides against the
// real clock (and the thread's CPU clock) whether the call is over. Epoch
// ticks only say when to look, so a tick that comes early or late never
// fails a call early, and a call is late by at most two ticks (one of grace).
wasmtime_error_t* on_epoch_deadline(wasmtime_context_t* /*context*/, void* data, std::uint64_t* delta,
                                    wasmtime_update_deadline_kind_t* kind) {
  auto* state = static_cast<CallState*>(data);
  if (auto over = state->overrun(); over != CallState::Overrun::None) {
    // The first time a call is found past its wall deadline it gets one more
    // tick: a call whose thread was descheduled across the deadline (a
    // loaded host: it needed microseconds but was off the CPU for longer
    // than the deadline) finishes instead of failing for time it never ran,
    // while a guest that really runs on is stopped one tick later.
    if (over == CallState::Overrun::Wall && !state->wall_grace_used) {
      state->wall_grace_used = true;
      *delta = 1;
      *kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
      return nullptr;
    }
    state->host_error = state->deadline_error(over);
    return wasmtime_error_new("wasmplug: call deadline");
  }
  // Not yet: look again when the nearer budget should be used up.
  const std::uint64_t now = CycleClock::ticks();
  auto left = state->engine->clock().between(now, state->started + state->deadline_ticks);
  if (state->cpu_budget) {
    left = std::min(left, *state->cpu_budget - (CallState::thread_cpu_time() - state->started_cpu));
  }
  *delta = state->engine->epoch_ticks(left);
  *kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
  return nullptr;
}

}  // namespace

Instance::Instance(const Engine& engine, const Plugin& plugin)
    : engine_(&engine), plugin_(&plugin), deadline_epochs_(engine.epoch_ticks(plugin.limits().deadline)),
      stack_needed_(engine.config().max_wasm_stack + kHostStackHeadroom) {
  state_.plugin = &plugin;
  state_.config = &engine.config();
  state_.logs = &engine.logs();
  state_.engine = &engine;
  state_.deadline_ticks = engine.clock().ticks_for(plugin.limits().deadline, kClockMargin);
  state_.cpu_budget = plugin.limits().cpu_deadline;
  if (state_.cpu_budget) {
    deadline_epochs_ = std::min(deadline_epochs_, engine.epoch_ticks(*state_.cpu_budget));
  }
}

Result<void> Instance::check_native_stack(Phase phase) const {
  const std::optional<std::size_t> left = native_stack_left();
  if (!left || *left >= stack_needed_) {
    return {};
  }
  return stack_error(phase, *left);
}

Error Instance::stack_error(Phase phase, std::size_t left) const {
  return state_.error(ErrorKind::InvalidArgument,
                      "the calling thread has " + std::to_string(left >> 10) +
                          " KiB of native stack left; entering wasm needs " + std::to_string(stack_needed_ >> 10) +
                          " KiB (RuntimeConfig::max_wasm_stack " +
                          std::to_string(engine_->config().max_wasm_stack >> 10) + " KiB + " +
                          std::to_string(kHostStackHeadroom >> 10) +
                          " KiB for host functions): call from a thread with a larger stack or lower max_wasm_stack",
                      phase);
}

Instance::~Instance() { state_.log_budget.close(*state_.logs, plugin_->name(), *state_.config); }

Result<std::unique_ptr<Instance>> Instance::create(const Engine& engine, const Plugin& plugin,
                                                  std::optional<Hook> hook) {
  std::unique_ptr<Instance> self(new Instance(engine, plugin));
  const Limits& limits = plugin.limits();
  self->store_ = StoreHandle(wasmtime_store_new(engine.raw(), &self->state_, nullptr));
  self->context_ = wasmtime_store_context(self->store_.get());
  wasmtime_store_limiter(self->store_.get(), static_cast<std::int64_t>(limits.memory_bytes),
                         static_cast<std::int64_t>(limits.table_elements), 1, 1, 1);
  wasmtime_store_epoch_deadline_callback(self->store_.get(), &on_epoch_deadline, &self->state_, nullptr);
  self->begin_call(hook);
  if (auto stack = self->check_native_stack(Phase::Instantiate); !stack) {
    return std::move(stack).error();
  }

  const PluginCode& code = plugin.code();
  self->state_.phase = Phase::Instantiate;
  wasm_trap_t* trap = nullptr;
  wasmtime_error_t* error = wasmtime_instance_pre_instantiate(
      code.instance_pre.get(), self->context_, &self->instance_, &trap);
  // A trap, or an error a host function or the deadline callback raised
  // (kept in host_error), is the guest's doing: classify it like any call.
  if (trap != nullptr || self->state_.host_error) {
    return self->classify(Phase::Instantiate, error, trap);
  }
  if (error != nullptr) {
    Failure failure = take_failure(error, nullptr);
    return self->state_.error(ErrorKind::InstantiateFailed,
                              "instantiation failed: " + failure.message, Phase::Instantiate);
  }

  // One call resolves every export through a table made once per plugin
  // (engine/export_table.hpp): no name hashing, no walk of the export list.
  wasmplug_export_table* table = code.exports.table.load(std::memory_order_acquire);
  const std::size_t n = code.export_name.size() + 1;  // [memory, exports...]
  if (table == nullptr) [[unlikely]] {
    std::vector<const std::uint8_t*> names;
    std::vector<std::size_t> lens;
    names.push_back(reinterpret_cast<const std::uint8_t*>(code.memory_name.data()));
    lens.push_back(code.memory_name.size());
    for (std::string_view name : code.export_name) {
      names.push_back(reinterpret_cast<const std::uint8_t*>(name.data()));
      lens.push_back(name.size());
    }
    ExportTableHandle made(
        wasmplug_export_table_new(self->context_, &self->instance_, names.data(), lens.data(), n));
    if (code.exports.table.compare_exchange_strong(table, made.get(), std::memory_order_acq_rel)) {
      table = made.release();
    }  // else another instance's table won: `table` holds it, ours is freed
  }
  constexpr std::size_t kMaxExports = 16;
  std::array<wasmtime_extern_t, kMaxExports> items{};
  std::array<bool, kMaxExports> found{};
  if (n > kMaxExports) [[unlikely]] {
    return self->state_.error(ErrorKind::InstantiateFailed, "the ABI has more exports than the lookup allows",
                              Phase::Instantiate);
  }
  wasmplug_export_table_get(self->context_, &self->instance_, table, items.data(), found.data());
  if (!found[0] || items[0].kind != WASMTIME_EXTERN_MEMORY) {
    return self->state_.error(ErrorKind::InstantiateFailed, "the memory export is missing",
                              Phase::Instantiate);
  }
  self->state_.memory = items[0].of.memory;
  self->state_.has_memory = true;

  self->funcs_.resize(code.export_index.size());
  for (std::size_t i = 0; i < code.export_index.size(); ++i) {
    if (code.export_index[i] && found[i + 1] && items[i + 1].kind == WASMTIME_EXTERN_FUNC) {
      self->funcs_[i] = items[i + 1].of.func;
    }
  }
  return self;
}

void Instance::begin_call(std::optional<Hook> hook) {
  state_.log_budget.close(*state_.logs, plugin_->name(), *state_.config);
  state_.hook = hook;
  state_.host_error.reset();
  state_.exited = false;
  state_.unwound = false;
  state_.started = CycleClock::ticks();
  if (hook) {
    call_started_ticks = state_.started;
  }
  state_.wall_grace_used = false;
  if (state_.cpu_budget) {
    state_.started_cpu = CallState::thread_cpu_time();
  }
  const Limits& limits = plugin_->limits();
  wasmtime_context_set_epoch_deadline(context_, deadline_epochs_);
  if (engine_->config().enable_fuel) {
    // A store starts with no fuel: unmetered plugins get all there is.
    ErrorHandle ignored(wasmtime_context_set_fuel(
        context_, limits.fuel.value_or(std::numeric_limits<std::uint64_t>::max())));
  }
}

GuestMemory Instance::memory() const noexcept {
  if (!state_.has_memory) {
    return GuestMemory(nullptr, 0);
  }
  return GuestMemory(wasmtime_memory_data(context_, &state_.memory),
                     wasmtime_memory_data_size(context_, &state_.memory));
}

bool Instance::memory_at_limit() const noexcept {
  return state_.has_memory &&
         wasmtime_memory_data_size(context_, &state_.memory) + kWasmPage >
             plugin_->limits().memory_bytes;
}

Error Instance::classify(Phase phase, wasmtime_error_t* error, wasm_trap_t* trap) {
  state_.unwound = true;  // every failed guest call unwound the guest
  Failure failure = take_failure(error, trap);
  if (state_.host_error) {
    Error host = std::move(*state_.host_error);
    state_.host_error.reset();
    return host;
  }
  const Limits& limits = plugin_->limits();
  TrapCode code = failure.trap_code ? to_trap_code(*failure.trap_code) : TrapCode::Other;
  Error out;
  if (code == TrapCode::Interrupt) {
    out = state_.error(ErrorKind::Timeout,
                       "exceeded its deadline of " + std::to_string(limits.deadline.count()) + " ms",
                       phase);
  } else if (code == TrapCode::OutOfFuel) {
    out = state_.error(ErrorKind::OutOfFuel,
                       "used up its fuel budget of " + std::to_string(limits.fuel.value_or(0)),
                       phase);
  } else if (memory_at_limit()) {
    out = state_.error(ErrorKind::MemoryLimit,
                       "failed after its memory reached the limit of " + mib(limits.memory_bytes) +
                           " (" + failure.message + ")",
                       phase);
  } else {
    out = state_.error(ErrorKind::Trap, failure.message, phase);
  }
  out.trap = code;
  return out;
}

}  // namespace wasmplug::detail
