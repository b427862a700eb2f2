#include "host/host_func.hpp"

#include "engine/failure.hpp"

namespace wasmplug::detail {

namespace host_impl {
wasm_trap_t* raise(CallState& state, Error error) {
  error.trap = TrapCode::HostTrap;
  std::string message = error.message;
  state.host_error = std::move(error);
  return wasmtime_trap_new(message.data(), message.size());
}
}  // namespace host_impl

Result<void> define_all(wasmtime_linker_t* linker, std::span<const HostFuncDef> defs) {
  for (const HostFuncDef& def : defs) {
    FuncTypeHandle type = to_functype(def.sig);
    wasmtime_error_t* error = wasmtime_linker_define_func_unchecked(
        linker, def.module.data(), def.module.size(), def.name.data(), def.name.size(), type.get(),
        def.callback, nullptr, nullptr);
    if (error != nullptr) {
      return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
                   "cannot define host function " + std::string(def.module) + "." +
                       std::string(def.name) + ": " + take_message(error)};
    }
  }
  return {};
}

}  // namespace wasmplug::detail
