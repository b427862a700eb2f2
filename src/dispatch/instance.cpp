#include "dispatch/instance.hpp"

#include <limits>
#include <string>

#include "dispatch/plugin_code.hpp"
#include "engine/failure.hpp"

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

}  // namespace

Instance::Instance(const Engine& engine, const Plugin& plugin)
    : engine_(&engine), plugin_(&plugin), deadline_ticks_(engine.deadline_ticks(plugin.limits().deadline)) {
  state_.plugin = &plugin;
  state_.config = &engine.config();
}

Instance::~Instance() = default;

Result<std::unique_ptr<Instance>> Instance::create(const Engine& engine, const Plugin& plugin,
                                                  std::optional<Hook> hook) {
  std::unique_ptr<Instance> self(new Instance(engine, plugin));
  const Limits& limits = plugin.limits();
  self->store_ = StoreHandle(wasmtime_store_new(engine.raw(), &self->state_, nullptr));
  self->context_ = wasmtime_store_context(self->store_.get());
  wasmtime_store_limiter(self->store_.get(), static_cast<std::int64_t>(limits.memory_bytes),
                         static_cast<std::int64_t>(limits.table_elements), 1, 1, 1);
  self->begin_call(hook);

  const PluginCode& code = plugin.code();
  self->state_.phase = Phase::Instantiate;
  wasm_trap_t* trap = nullptr;
  wasmtime_error_t* error = wasmtime_instance_pre_instantiate(
      code.instance_pre.get(), self->context_, &self->instance_, &trap);
  if (trap != nullptr) {
    return self->classify(Phase::Instantiate, error, trap);
  }
  if (error != nullptr) {
    Failure failure = take_failure(error, nullptr);
    return self->state_.error(ErrorKind::InstantiateFailed,
                              "instantiation failed: " + failure.message, Phase::Instantiate);
  }

  char* name = nullptr;
  std::size_t name_len = 0;
  wasmtime_extern_t item;
  if (!wasmtime_instance_export_nth(self->context_, &self->instance_, code.memory_export, &name,
                                    &name_len, &item) ||
      item.kind != WASMTIME_EXTERN_MEMORY) {
    return self->state_.error(ErrorKind::InstantiateFailed, "the memory export is missing",
                              Phase::Instantiate);
  }
  self->state_.memory = item.of.memory;
  self->state_.has_memory = true;

  self->funcs_.resize(code.export_index.size());
  for (std::size_t i = 0; i < code.export_index.size(); ++i) {
    const std::optional<std::size_t>& index = code.export_index[i];
    if (!index) {
      continue;
    }
    if (wasmtime_instance_export_nth(self->context_, &self->instance_, *index, &name, &name_len, &item) &&
        item.kind == WASMTIME_EXTERN_FUNC) {
      self->funcs_[i] = item.of.func;
    }
  }
  return self;
}

void Instance::begin_call(std::optional<Hook> hook) {
  state_.hook = hook;
  state_.host_error.reset();
  state_.started = std::chrono::steady_clock::now();
  const Limits& limits = plugin_->limits();
  wasmtime_context_set_epoch_deadline(context_, deadline_ticks_);
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
