// Per-store data: what host functions and error classification need to know
// about the call in progress. Reached through the store's data pointer, never
// through globals or thread_locals.
#pragma once

#include <time.h>

#include <chrono>
#include <optional>

#include <wasmtime.h>

#include "instance/guest_memory.hpp"
#include "engine/cycle_clock.hpp"
#include "engine/log_queue.hpp"

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Engine;

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

  /// The call's clock (CycleClock ticks): when it began and how many ticks
  /// its wall-clock deadline allows (set by Instance; never less than the
  /// deadline, see CycleClock::ticks_for).
  const Engine* engine = nullptr;
  std::uint64_t started = 0;
  std::uint64_t deadline_ticks = 0;
  /// The epoch callback found the call past its wall deadline once and let
  /// it run one more tick (see on_epoch_deadline in instance.cpp).
  bool wall_grace_used = false;
  /// Limits::cpu_deadline, and the thread's CPU time when the call began.
  std::optional<std::chrono::nanoseconds> cpu_budget;
  std::chrono::nanoseconds started_cpu{0};

  /// This thread's CPU time (one clock_gettime syscall).
  [[nodiscard]] static std::chrono::nanoseconds thread_cpu_time() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }

  /// Which budget the call has used up, if any: checked by the epoch
  /// deadline callback and by host functions.
  enum class Overrun : std::uint8_t { None, Wall, Cpu };
  [[nodiscard]] Overrun overrun() const noexcept {
    if (CycleClock::ticks() - started >= deadline_ticks) {
      return Overrun::Wall;
    }
    if (cpu_budget && thread_cpu_time() - started_cpu >= *cpu_budget) {
      return Overrun::Cpu;
    }
    return Overrun::None;
  }

  /// True once the call has run past its deadline (wall or CPU). Host
  /// functions whose work grows with their input check this every few KiB of
  /// work (and once at the end) and end the call with deadline_error(), so a
  /// host function never outlives the call's deadline by more than one step.
  [[nodiscard]] bool deadline_passed() const noexcept { return overrun() != Overrun::None; }

  /// The Timeout error for `which` budget (Wall when deadline_passed() has
  /// not said which).
  [[nodiscard]] Error deadline_error(Overrun which = Overrun::Wall) const {
    const Limits& limits = plugin->limits();
    Error e = which == Overrun::Cpu
                  ? error(ErrorKind::Timeout,
                          "used up its CPU deadline of " + std::to_string(limits.cpu_deadline.value_or(std::chrono::milliseconds(0)).count()) + " ms")
                  : error(ErrorKind::Timeout,
                          "exceeded its deadline of " + std::to_string(limits.deadline.count()) + " ms");
    e.trap = TrapCode::Interrupt;
    return e;
  }

  /// Where the guest's log lines go (the engine's queue), and what is left of
  /// this call's log budget (closed by Instance::begin_call and ~Instance).
  LogQueue* logs = nullptr;
  LogBudget log_budget;

  /// The caller's context for this call, or null.
  HostContext* host_context = nullptr;
  /// Set by WASI proc_exit(0): the guest ended the call normally but its
  /// stack is gone, so the ABI layer ends the call (abi_invoke) and the
  /// instance is never reused.
  bool exited = false;
  /// Set when a guest call of this call ended in a trap (a guest trap, or a
  /// host function failing the call): the guest was unwound mid-code, so its
  /// state may be half-updated and the instance is never reused.
  bool unwound = false;
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
