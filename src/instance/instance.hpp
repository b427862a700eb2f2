// Instance — one store holding one instance of a plugin, with its limits,
// deadline and the plugin's ABI exports resolved. The shared call machinery
// under every ABI adapter: typed calls into the guest, error classification,
// and the guest memory view.
//
// Not thread-safe: one thread uses an Instance at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <wasmtime.h>

#include "instance/call_state.hpp"
#include "instance/guest_memory.hpp"
#include "engine/engine.hpp"
#include "engine/handle.hpp"
#include "engine/native_stack.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// The tick (CycleClock) at which the calling thread's latest hook call
/// started its deadline clock (Instance::begin_call with a hook: a fresh
/// call's instance being made, a kept instance being entered). measured_call
/// clears it before a call and times the call from it, so that a metered call
/// reads the TSC once more, not twice; 0 = no hook call began since.
inline thread_local std::uint64_t call_started_ticks = 0;

/// Where a step of a call (Instance::call_into, an ABI adapter's copy-in)
/// leaves its failure, so that the steps chain without a Result each: empty
/// until a step fails; take() hands the Error to the one Result returned.
class StepFailure {
 public:
  StepFailure& operator=(Error error) {
    error_ = std::move(error);
    return *this;
  }
  /// Precondition: a step failed (checked: aborts otherwise).
  [[nodiscard]] Error take() {
    if (!error_) [[unlikely]] {
      bad_result_access(nullptr);
    }
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

class Instance {
 public:
  /// New store (memory/table limits, deadline and fuel armed for a first
  /// call), then instantiation from the plugin's instance-pre; the start
  /// function, if any, runs under that deadline. Phase: Instantiate.
  [[nodiscard]] static Result<std::unique_ptr<Instance>> create(const Engine& engine,
                                                                const Plugin& plugin,
                                                                std::optional<Hook> hook);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  /// Re-arms the deadline and fuel budget for a new call of `hook` (a hook:
  /// also sets call_started_ticks; nullopt: wp_shutdown, an instance made
  /// ahead of calls).
  void begin_call(std::optional<Hook> hook);

  /// The ABI export at `spec_index` (AbiSpec::exports), or nullptr if absent.
  [[nodiscard]] const wasmtime_func_t* func(std::size_t spec_index) const noexcept {
    const auto& f = funcs_[spec_index];
    return f ? &*f : nullptr;
  }

  /// A view of guest memory now; invalid after any guest call or grow.
  [[nodiscard]] GuestMemory memory() const noexcept;
  /// A view covering [ptr, ptr+len) if memory does (CallState::covering).
  [[nodiscard]] GuestMemory memory_covering(std::uint64_t ptr, std::uint64_t len) noexcept {
    return state_.covering(context_, ptr, len);
  }
  /// True when memory cannot grow by another page without passing the limit.
  [[nodiscard]] bool memory_at_limit() const noexcept;

  [[nodiscard]] CallState& state() noexcept { return state_; }
  [[nodiscard]] const Plugin& plugin() const noexcept { return *plugin_; }

  /// Calls `func` with `args` on the unchecked path (signatures were checked
  /// exactly at admission). Any trap or error becomes an Error for `phase`.
  template <class R, class... A>
  [[nodiscard]] Result<R> call(const wasmtime_func_t& func, Phase phase, A... args) {
    StepFailure failure;
    if constexpr (std::is_void_v<R>) {
      if (!call_into(failure, func, phase, args...)) [[unlikely]] {
        return failure.take();
      }
      return {};
    } else {
      R result{};
      if (!call_into(result, failure, func, phase, args...)) [[unlikely]] {
        return failure.take();
      }
      return result;
    }
  }

  /// call() without a Result, for the warm path's steps: the value through
  /// `result`, a failure (built out of line) into `failure`; false when the
  /// call failed. A Result<R> per step cost its construction, checks and
  /// destruction on every call.
  template <class R, class... A>
  [[nodiscard]] bool call_into(R& result, StepFailure& failure, const wasmtime_func_t& func, Phase phase,
                               A... args) {
    std::array<wasmtime_val_raw_t, std::max<std::size_t>(sizeof...(A), 1)> raw{};
    if (!enter<1>(failure, func, phase, raw, args...)) [[unlikely]] {
      return false;
    }
    result = get<R>(raw[0]);
    return true;
  }
  /// call_into for a function without results.
  template <class... A>
  [[nodiscard]] bool call_into(StepFailure& failure, const wasmtime_func_t& func, Phase phase, A... args) {
    std::array<wasmtime_val_raw_t, std::max<std::size_t>(sizeof...(A), 1)> raw{};
    return enter<0>(failure, func, phase, raw, args...);
  }

  /// Turns a failed guest call into an Error (takes ownership of both).
  [[nodiscard]] Error classify(Phase phase, wasmtime_error_t* error, wasm_trap_t* trap);

  /// InvalidArgument when this thread has too little native stack left to
  /// enter wasm safely (max_wasm_stack + kHostStackHeadroom).
  [[nodiscard]] Result<void> check_native_stack(Phase phase) const;
  /// The InvalidArgument of check_native_stack for `left` bytes of stack.
  [[nodiscard]] Error stack_error(Phase phase, std::size_t left) const;

 private:
  Instance(const Engine& engine, const Plugin& plugin);

  // The stack check and the guest call; results, if any, in raw[0] (the
  // arguments' slots are reused: every signature has at most one result).
  template <std::size_t kResults, std::size_t N, class... A>
  [[nodiscard, gnu::always_inline]] bool enter(StepFailure& failure, const wasmtime_func_t& func,
                                               Phase phase, std::array<wasmtime_val_raw_t, N>& raw, A... args) {
    if (const auto left = native_stack_left(); left && *left < stack_needed_) [[unlikely]] {
      failure = stack_error(phase, *left);
      return false;
    }
    std::size_t i = 0;
    ((put(raw[i++], args)), ...);
    state_.phase = phase;
    wasm_trap_t* trap = nullptr;
    wasmtime_error_t* error =
        wasmtime_func_call_unchecked(context_, &func, raw.data(), std::max(sizeof...(A), kResults), &trap);
    if (error != nullptr || trap != nullptr) [[unlikely]] {
      failure = classify(phase, error, trap);
      return false;
    }
    return true;
  }

  static void put(wasmtime_val_raw_t& slot, std::uint32_t v) { slot.i32 = static_cast<std::int32_t>(v); }
  static void put(wasmtime_val_raw_t& slot, std::int32_t v) { slot.i32 = v; }
  static void put(wasmtime_val_raw_t& slot, std::uint64_t v) { slot.i64 = static_cast<std::int64_t>(v); }
  static void put(wasmtime_val_raw_t& slot, std::int64_t v) { slot.i64 = v; }
  template <class R>
  static R get(const wasmtime_val_raw_t& slot) {
    if constexpr (sizeof(R) == 4) {
      return static_cast<R>(slot.i32);
    } else {
      static_assert(sizeof(R) == 8);
      return static_cast<R>(slot.i64);
    }
  }

  const Engine* engine_;
  const Plugin* plugin_;
  CallState state_;
  StoreHandle store_;
  wasmtime_context_t* context_ = nullptr;
  wasmtime_instance_t instance_{};
  std::vector<std::optional<wasmtime_func_t>> funcs_;
  std::uint64_t deadline_epochs_;  // epoch ticks first armed for a call
  std::size_t stack_needed_;       // max_wasm_stack + kHostStackHeadroom
};

}  // namespace wasmplug::detail
