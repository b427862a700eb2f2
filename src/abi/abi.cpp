#include "abi/abi.hpp"

#include "abi/cc_lb.hpp"
#include "abi/kestrel.hpp"
#include "abi/native.hpp"
#include "abi/rustcdc.hpp"

namespace wasmplug::detail {

// A switch per entry point keeps each profile's adapter free of virtual
// dispatch; adding a profile adds a case here.

const AbiSpec& abi_spec(AbiProfile profile) {
  switch (profile) {
    case AbiProfile::Native: return native::spec();
    case AbiProfile::CcLb: return cc_lb::spec();
    case AbiProfile::Rustcdc: return rustcdc::spec();
    case AbiProfile::Kestrel: return kestrel_abi::spec();
  }
  return native::spec();
}

Result<void> run_reactor_initializer(Instance& instance, const wasmtime_func_t* func) {
  if (func == nullptr) {
    return {};
  }
  return instance.call<void>(*func, Phase::Init);
}

namespace {

Result<void> initialize_profile(Instance& instance) {
  switch (instance.plugin().abi()) {
    case AbiProfile::Native: return native::initialize(instance);
    case AbiProfile::CcLb: return cc_lb::initialize(instance);
    case AbiProfile::Rustcdc: return rustcdc::initialize(instance);
    case AbiProfile::Kestrel: return kestrel_abi::initialize(instance);
  }
  return {};
}


}  // namespace

// WASI proc_exit(0) unwinds the guest like a trap (see host/wasi.cpp). During
// initialisation the instance is gone before any hook could run, so that is
// the guest's error; during a hook call it is the call's normal end, with no
// result from the guest: filter and transform drop, observe is done.
Result<void> abi_initialize(Instance& instance) {
  Result<void> out = initialize_profile(instance);
  if (!out && instance.state().exited) {
    Error e = std::move(out).error();
    e.message = "the plugin called proc_exit(0) during initialisation; a plugin must stay alive to serve its hooks";
    return e;
  }
  return out;
}


Result<void> abi_shutdown(Instance& instance) {
  switch (instance.plugin().abi()) {
    case AbiProfile::Native: return native::shutdown(instance);
    case AbiProfile::CcLb: return {};
    case AbiProfile::Rustcdc: return rustcdc::shutdown(instance);
    case AbiProfile::Kestrel: return {};
  }
  return {};
}

}  // namespace wasmplug::detail
