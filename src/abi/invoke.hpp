// abi_invoke: one hook call through the plugin's ABI adapter. Inline, so that
// an isolation strategy reaches the adapter's invoke in one hop (the path
// Runtime::call → dispatch_call → WarmPool::call / call_fresh → <profile>::invoke
// → GuestMemory stays within five).
#pragma once

#include <cstdint>
#include <span>

#include "abi/cc_lb.hpp"
#include "abi/kestrel.hpp"
#include "abi/native.hpp"
#include "abi/rustcdc.hpp"
#include "instance/instance.hpp"

namespace wasmplug::detail {

/// The profile's invoke. Always inlined into abi_invoke: each return builds
/// abi_invoke's Result in place (a lambda here was an out-of-line call of
/// its own, ≈ 25 instructions per call).
[[gnu::always_inline]] inline Result<Output> invoke_profile(Instance& instance, Hook hook,
                                                            std::span<const std::uint8_t> input) {
  switch (instance.plugin().abi()) {
    case AbiProfile::Native: return native::invoke(instance, hook, input);
    case AbiProfile::CcLb: return cc_lb::invoke(instance, hook, input);
    case AbiProfile::Rustcdc: return rustcdc::invoke(instance, hook, input);
    case AbiProfile::Kestrel: return kestrel_abi::invoke(instance, hook);  // the event comes through host calls
  }
  return instance.state().error(ErrorKind::InvalidArgument, "unknown ABI profile", Phase::Call);
}

/// Calls `hook` with `input` through the plugin's ABI profile. WASI
/// proc_exit(0) during a hook call is the call's normal end with no result
/// from the guest: filter and transform drop, observe is done.
[[nodiscard]] inline Result<Output> abi_invoke(Instance& instance, Hook hook, std::span<const std::uint8_t> input) {
  Result<Output> out = invoke_profile(instance, hook, input);
  if (!out && instance.state().exited) [[unlikely]] {
    out = Output{hook == Hook::Observe ? Output::Kind::Done : Output::Kind::Drop, {}};
  }
  return out;  // one named return: constructed in the caller's Result, never moved
}

}  // namespace wasmplug::detail
