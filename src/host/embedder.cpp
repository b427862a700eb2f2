#include "host/embedder.hpp"

#include <array>
#include <cstring>

#include "engine/failure.hpp"

namespace wasmplug {

std::string_view to_string(ValueType type) noexcept {
  switch (type) {
    case ValueType::I32: return "i32";
    case ValueType::I64: return "i64";
    case ValueType::F32: return "f32";
    case ValueType::F64: return "f64";
  }
  return "?";
}

std::string HostSignature::to_string() const { return detail::to_func_sig(*this).to_string(); }

const std::string& HostCallContext::plugin() const noexcept { return call_.state().plugin->name(); }

std::optional<Hook> HostCallContext::hook() const noexcept { return call_.state().hook; }

const std::string& HostCallContext::function() const noexcept { return function_; }

// Every guest access goes through HostCall::bytes, the accessor and the
// error wording of the built-in host functions.
Result<std::span<const std::uint8_t>> HostCallContext::read(std::uint32_t ptr, std::uint32_t len) {
  auto span = call_.bytes(function_, "read of", ptr, len);
  if (!span) {
    return std::move(span).error();
  }
  return std::span<const std::uint8_t>(*span);
}

Result<std::string_view> HostCallContext::read_text(std::uint32_t ptr, std::uint32_t len) {
  return call_.text(function_, "read of", ptr, len);
}

Result<void> HostCallContext::write(std::uint32_t ptr, std::span<const std::uint8_t> bytes) {
  if (bytes.size() > UINT32_MAX) {
    return error(ErrorKind::AbiViolation, function_ + ": a write of " + std::to_string(bytes.size()) +
                                              " bytes cannot fit in a 32-bit guest memory");
  }
  auto span = call_.bytes(function_, "write to", ptr, static_cast<std::uint32_t>(bytes.size()));
  if (!span) {
    return std::move(span).error();
  }
  if (!bytes.empty()) {
    // memmove: `bytes` may itself be guest memory the guest made overlap.
    std::memmove(span->data(), bytes.data(), bytes.size());
  }
  return {};
}

std::uint64_t HostCallContext::memory_size() const noexcept { return call_.memory().size(); }

Result<void> HostCallContext::check_deadline() const { return call_.check_deadline(); }

Error HostCallContext::error(ErrorKind kind, std::string message) const {
  return call_.error(kind, std::move(message));
}

}  // namespace wasmplug

namespace wasmplug::detail {

FuncSig to_func_sig(const HostSignature& sig) {
  FuncSig out;
  for (ValueType type : sig.params) {
    out.params.push_back(to_valtype(type));
  }
  if (sig.result) {
    out.results.push_back(to_valtype(*sig.result));
  }
  return out;
}

namespace {

HostValue get(const wasmtime_val_raw_t& raw, ValueType type) {
  HostValue value{};
  switch (type) {
    case ValueType::I32: value.i32 = raw.i32; break;
    case ValueType::I64: value.i64 = raw.i64; break;
    case ValueType::F32: value.f32 = raw.f32; break;
    case ValueType::F64: value.f64 = raw.f64; break;
  }
  return value;
}

void put(wasmtime_val_raw_t& raw, ValueType type, const HostValue& value) {
  switch (type) {
    case ValueType::I32: raw.i32 = value.i32; break;
    case ValueType::I64: raw.i64 = value.i64; break;
    case ValueType::F32: raw.f32 = value.f32; break;
    case ValueType::F64: raw.f64 = value.f64; break;
  }
}

// Unlike host_impl::raise, the Error is kept exactly as the embedder made it:
// it is what the caller of Runtime::call receives.
wasm_trap_t* fail_call(CallState& state, Error error) {
  std::string message = error.message;
  state.host_error = std::move(error);
  return wasmtime_trap_new(message.data(), message.size());
}

wasm_trap_t* embedder_trampoline(void* env, wasmtime_caller_t* caller, wasmtime_val_raw_t* raw,
                                 std::size_t /*n*/) noexcept {
  const auto& function = *static_cast<const HostFunction*>(env);
  auto* state = static_cast<CallState*>(wasmtime_context_get_data(wasmtime_caller_context(caller)));
  try {
    const HostSignature& sig = function.signature();
    std::array<HostValue, kMaxHostFunctionParams> slots{};
    for (std::size_t i = 0; i < sig.params.size(); ++i) {
      slots[i] = get(raw[i], sig.params[i]);
    }
    HostCall call(caller, *state);
    HostCallContext context(call, function.full_name());
    Result<void> r = function.invoke(context, slots);
    if (!r) {
      Error error = std::move(r).error();
      // An Error made without HostCallContext::error still names the call.
      if (error.plugin.empty()) {
        error.plugin = state->plugin->name();
      }
      if (error.hook.empty() && state->hook) {
        error.hook = std::string(to_string(*state->hook));
      }
      return fail_call(*state, std::move(error));
    }
    if (sig.result) {
      put(raw[0], *sig.result, slots[0]);
    }
    return nullptr;
  } catch (const std::exception& e) {
    Error error = state->error(ErrorKind::Trap, "host function " + function.full_name() + " threw: " + e.what());
    error.trap = TrapCode::HostTrap;
    return fail_call(*state, std::move(error));
  } catch (...) {
    Error error = state->error(ErrorKind::Trap, "host function " + function.full_name() + " threw an exception");
    error.trap = TrapCode::HostTrap;
    return fail_call(*state, std::move(error));
  }
}

void release(void* env) { delete static_cast<HostFunction*>(env); }

Error config_error(const std::string& message) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {}, "RuntimeConfig::host_functions: " + message};
}

// Wasm names are UTF-8; checked here so that the engine never refuses one.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

}  // namespace

Result<void> check_embedder_functions(std::span<const HostFunction> functions, std::span<const HostFuncDef> builtins) {
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const HostFunction& f = functions[i];
    const std::string quoted = "\"" + f.full_name() + "\"";
    if (f.module().empty() || f.name().empty()) {
      return config_error(quoted + ": the module and the name must not be empty");
    }
    if (!valid_utf8(f.module()) || !valid_utf8(f.name())) {
      return config_error(quoted + ": module and name must be UTF-8 (wasm names are)");
    }
    for (std::string_view reserved : kReservedHostModules) {
      if (f.module() == reserved) {
        return config_error(f.full_name() + ": the module " + std::string(reserved) +
                            " is reserved for the runtime's own host functions");
      }
    }
    for (const HostFuncDef& builtin : builtins) {
      if (builtin.module == f.module() && builtin.name == f.name()) {
        return config_error(f.full_name() + " is the name of a built-in host function (" + builtin.sig.to_string() +
                            "); choose another module or name");
      }
    }
    for (std::size_t k = 0; k < i; ++k) {
      if (functions[k].module() == f.module() && functions[k].name() == f.name()) {
        return config_error(f.full_name() + " is registered twice");
      }
    }
  }
  return {};
}

Result<void> define_embedder_functions(wasmtime_linker_t* linker, std::span<const HostFunction> functions) {
  for (const HostFunction& f : functions) {
    FuncTypeHandle type = to_functype(to_func_sig(f.signature()));
    // The engine owns `env` from here on and calls `release` when the
    // definition goes, also when defining fails.
    auto* env = new HostFunction(f);
    wasmtime_error_t* error = wasmtime_linker_define_func_unchecked(
        linker, f.module().data(), f.module().size(), f.name().data(), f.name().size(), type.get(),
        &embedder_trampoline, env, &release);
    if (error != nullptr) {
      return config_error("cannot define " + f.full_name() + ": " + take_message(error));
    }
  }
  return {};
}

std::vector<HostFuncDef> embedder_defs(std::span<const HostFunction> functions) {
  std::vector<HostFuncDef> out;
  out.reserve(functions.size());
  for (const HostFunction& f : functions) {
    out.push_back(HostFuncDef{f.module(), f.name(), to_func_sig(f.signature()), &embedder_trampoline, true});
  }
  return out;
}

Result<ImportRules> import_rules(std::span<const HostFuncDef> profile_imports, std::span<const HostFuncDef> embedder,
                                 const LoadOptions& options) {
  auto invalid = [&](const std::string& message) {
    return Error{ErrorKind::InvalidArgument, Phase::Load, options.name, {},
                 "LoadOptions::host_functions: " + message};
  };
  ImportRules rules;
  rules.allowed.assign(profile_imports.begin(), profile_imports.end());
  const std::vector<HostFunctionGrant>& grants = options.host_functions;
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const std::string full = grants[i].module + "." + grants[i].name;
    for (std::size_t k = 0; k < i; ++k) {
      if (grants[k] == grants[i]) {
        return invalid(full + " is granted twice");
      }
    }
    bool registered = false;
    for (const HostFuncDef& def : embedder) {
      registered = registered || (def.module == grants[i].module && def.name == grants[i].name);
    }
    if (!registered) {
      return invalid(full + " is not a registered host function (RuntimeConfig::host_functions)");
    }
  }
  for (const HostFuncDef& def : embedder) {
    bool granted = false;
    for (const HostFunctionGrant& grant : grants) {
      granted = granted || (def.module == grant.module && def.name == grant.name);
    }
    (granted ? rules.allowed : rules.not_granted).push_back(def);
  }
  return rules;
}

}  // namespace wasmplug::detail
