// The one entry for a hook call: prechecks, isolation choice, metrics.
#pragma once

#include <cstdint>
#include <span>

#include "instance/call_state.hpp"
#include "engine/engine.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class SessionCore;

/// Runtime::prepare: one instance, initialisers only.
[[nodiscard]] Result<void> prepare(const Engine& engine, const Plugin& plugin);

/// `context`: handed to host functions for this call only (may be null).
[[nodiscard]] Result<Output> dispatch_call(const Engine& engine, const Plugin& plugin, Hook hook,
                                           std::span<const std::uint8_t> input, HostContext* context = nullptr);

/// A Session's call: the same prechecks and metrics, on the session's instance.
[[nodiscard]] Result<Output> dispatch_session_call(const Engine& engine, SessionCore& session, Hook hook,
                                                   std::span<const std::uint8_t> input);

}  // namespace wasmplug::detail
