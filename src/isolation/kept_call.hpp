// One hook call on an instance that is kept between calls: what a warm
// pool's lease (WarmPool::call) and a Session share, so that both judge the
// instance's health after a call the same way.
#pragma once

#include <cstdint>
#include <span>

#include "abi/invoke.hpp"
#include "instance/instance.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// A failed call may have left the guest in any state (trap mid-update,
/// half-written buffers), so its instance is discarded. Errors raised before
/// the guest was entered leave it untouched.
[[nodiscard]] inline bool instance_untouched_by(const Error& error) noexcept {
  return error.kind == ErrorKind::InvalidArgument ||
         (error.kind == ErrorKind::LimitExceeded && error.phase == Phase::Write);
}

/// begin_call → ABI invoke → close the call's log budget. `healthy` tells
/// whether the instance may serve another call: not after proc_exit(0) (no
/// stack left), nor after a failure that unwound the guest mid-code (any
/// error kind: a host function may fail a call with InvalidArgument).
[[nodiscard]] inline Result<Output> call_kept_instance(Instance& instance, const Plugin& plugin, Hook hook,
                                                       std::span<const std::uint8_t> input, HostContext* context,
                                                       bool& healthy) {
  instance.begin_call(hook);
  instance.state().host_context = context;
  Result<Output> out = abi_invoke(instance, hook, input);
  instance.state().host_context = nullptr;
  instance.state().log_budget.close(*instance.state().logs, plugin.name(), *instance.state().config);
  healthy = out.ok() ? !instance.state().exited : !instance.state().unwound && instance_untouched_by(out.error());
  return out;
}

}  // namespace wasmplug::detail
