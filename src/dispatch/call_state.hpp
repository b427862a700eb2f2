// Per-store data: what host functions and error classification need to know
// about the call in progress. Reached through the store's data pointer, never
// through globals or thread_locals.
#pragma once

#include <chrono>
#include <optional>

#include <wasmtime.h>

#include "dispatch/guest_memory.hpp"

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

/// What a profile's host functions need beyond the guest (e.g. the Kestrel
/// event being evaluated). Set by the caller for one call; `kind` tells the
/// host functions whether the context is theirs.
struct HostContext {
  enum class Kind : std::uint8_t { Kestrel };
  Kind kind;
};

struct CallState {
  const Plugin* plugin = nullptr;
  const RuntimeConfig* config = nullptr;
  std::optional<Hook> hook;
  Phase phase = Phase::Instantiate;
  wasmtime_memory_t memory{};
  bool has_memory = false;
  /// The last view of guest memory (see covering()).
  GuestMemory view{nullptr, 0};

  /// A view that covers [ptr, ptr+len) if memory does. The engine never moves
  /// a linear memory (memory_may_move off) and wasm memory never shrinks, so
  /// an earlier view stays valid for the bytes it covers; it is refreshed from
  /// the engine only when it does not cover the range (the guest grew memory).
  /// Same validity rule as any GuestMemory: do not keep it across a guest call.
  [[nodiscard]] GuestMemory covering(wasmtime_context_t* context, std::uint64_t ptr, std::uint64_t len) noexcept {
    if (!view.slice(ptr, len) && has_memory) {
      view = GuestMemory(wasmtime_memory_data(context, &memory), wasmtime_memory_data_size(context, &memory));
    }
    return view;
  }

  /// When the call began (set by Instance::begin_call).
  std::chrono::steady_clock::time_point started{};

  /// True once the call has run past its deadline. Host functions whose work
  /// grows with their input check this every few KiB of work (and once at the
  /// end) and end the call with deadline_error(), so a host function never
  /// outlives the call's deadline by more than one such step.
  [[nodiscard]] bool deadline_passed() const noexcept {
    return plugin != nullptr && std::chrono::steady_clock::now() - started >= plugin->limits().deadline;
  }
  /// The Timeout error of this call.
  [[nodiscard]] Error deadline_error() const {
    Error e = error(ErrorKind::Timeout, "exceeded its deadline of " +
                                            std::to_string(plugin->limits().deadline.count()) + " ms");
    e.trap = TrapCode::Interrupt;
    return e;
  }

  /// The caller's context for this call, or null.
  HostContext* host_context = nullptr;
  /// Set by a host function that fails the call (fail(), bad pointer ...);
  /// takes precedence over the trap it raises.
  std::optional<Error> host_error;

  /// An Error about this call, with plugin, hook and phase filled in.
  [[nodiscard]] Error error(ErrorKind kind, std::string message,
                            std::optional<Phase> at = std::nullopt) const {
    return Error{kind, at.value_or(phase), plugin != nullptr ? plugin->name() : std::string{},
                 hook ? std::string(to_string(*hook)) : std::string{}, std::move(message)};
  }
};

}  // namespace wasmplug::detail
