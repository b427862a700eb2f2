// Typed host functions. A host function is a plain C++ function
//
//     Result<R> fn(HostCall& call, A... args);   // R, A: (u)int32, (u)int64, float, double
//
// host_func<&fn>(module, name) derives its wasm signature at compile time
// (with the machinery of wasmplug/host.hpp, shared with embedder functions) and
// wraps it in an unchecked Wasmtime callback that reads the call context from
// the store's data (never from globals), turns an Error into a trap (kept in
// CallState::host_error so the caller sees the precise error), and catches
// every exception.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <wasmtime.h>

#include "instance/call_state.hpp"
#include "instance/guest_memory.hpp"
#include "engine/types.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/host.hpp"

namespace wasmplug::detail {

/// What a host function sees of the call that invoked it.
class HostCall {
 public:
  HostCall(wasmtime_caller_t* caller, CallState& state) noexcept : caller_(caller), state_(state) {}

  [[nodiscard]] CallState& state() noexcept { return state_; }
  /// Guest memory now; invalid after the host function returns.
  [[nodiscard]] GuestMemory memory() const noexcept {
    if (!state_.has_memory) {
      return GuestMemory(nullptr, 0);
    }
    wasmtime_context_t* cx = wasmtime_caller_context(caller_);
    return GuestMemory(wasmtime_memory_data(cx, &state_.memory),
                       wasmtime_memory_data_size(cx, &state_.memory));
  }
  /// A view covering [ptr, ptr+len) if memory does, reusing the call's cached
  /// view when it can (CallState::covering); invalid after the host function returns.
  [[nodiscard]] GuestMemory memory_covering(std::uint64_t ptr, std::uint64_t len) noexcept {
    if (state_.view.slice(ptr, len)) [[likely]] {
      return state_.view;  // no FFI call for the store's context
    }
    return state_.covering(wasmtime_caller_context(caller_), ptr, len);
  }
  /// The guest bytes [ptr, ptr+len) as text, valid until the host function
  /// returns; AbiViolation "<function>: <what> range ... lies outside guest
  /// memory ..." when they are not all inside memory.
  [[nodiscard]] Result<std::string_view> text(std::string_view function, std::string_view what, std::uint32_t ptr,
                                              std::uint32_t len) {
    auto span = bytes(function, what, ptr, len);
    if (!span) {
      return std::move(span).error();
    }
    return std::string_view(reinterpret_cast<const char*>(span->data()), span->size());
  }
  /// The guest bytes [ptr, ptr+len), writable, under the same rule and
  /// error as text().
  [[nodiscard]] Result<std::span<std::uint8_t>> bytes(std::string_view function, std::string_view what,
                                                      std::uint32_t ptr, std::uint32_t len) {
    GuestMemory memory = memory_covering(ptr, len);
    auto span = memory.slice(ptr, len);
    if (!span) [[unlikely]] {
      return out_of_bounds(memory, function, what, ptr, len);
    }
    return *span;
  }
  /// Timeout once the call is past its deadline (CallState::deadline_passed):
  /// host functions doing work proportional to their input call this every
  /// few KiB of work and return its error.
  [[nodiscard]] Result<void> check_deadline() const {
    if (auto over = state_.overrun(); over != CallState::Overrun::None) {
      return state_.deadline_error(over);
    }
    return {};
  }
  /// An error for this call (phase: the one in progress).
  [[nodiscard]] Error error(ErrorKind kind, std::string message) const {
    return state_.error(kind, std::move(message));
  }
  /// The AbiViolation of bytes() (out of line: text() and bytes() stay
  /// small enough to inline into every host function).
  [[nodiscard]] [[gnu::cold]] [[gnu::noinline]] Error out_of_bounds(GuestMemory memory, std::string_view function,
                                                                  std::string_view what, std::uint32_t ptr,
                                                                  std::uint32_t len) const {
    return error(ErrorKind::AbiViolation, std::string(function) + ": " + std::string(what) + " " +
                                              memory.describe_out_of_bounds(ptr, len));
  }

 private:
  wasmtime_caller_t* caller_;
  CallState& state_;
};

constexpr ValType to_valtype(ValueType type) noexcept {
  switch (type) {
    case ValueType::I32: return ValType::I32;
    case ValueType::I64: return ValType::I64;
    case ValueType::F32: return ValType::F32;
    case ValueType::F64: return ValType::F64;
  }
  return ValType::I32;
}

/// The engine-level signature of a public one.
[[nodiscard]] FuncSig to_func_sig(const HostSignature& sig);

/// A host function ready to be linked and to be matched at admission.
struct HostFuncDef {
  std::string_view module;
  std::string_view name;
  FuncSig sig;
  wasmtime_func_unchecked_callback_t callback;
  /// An embedder's function (RuntimeConfig::host_functions): a plugin may
  /// import it only when granted; admission words its problems accordingly.
  bool embedder = false;
};

namespace host_impl {

// The signature and value machinery is the public one (wasmplug/host.hpp),
// shared with embedder host functions.
template <class F>
struct Traits;

template <class R, class... A>
struct Traits<Result<R> (*)(HostCall&, A...)> {
  static FuncSig sig() { return to_func_sig(signature_of<R, A...>()); }
  static constexpr std::size_t kArity = sizeof...(A);
};

wasm_trap_t* raise(CallState& state, Error error);

// Reads the arguments, calls Fn and writes its value straight from the
// Result<R> (no Result<void> in between: its Error member cost ~40
// instructions per host call for nothing on the success path).
template <auto Fn, class R, class... A, std::size_t... I>
wasm_trap_t* invoke_raw(HostCall& call, wasmtime_val_raw_t* raw, std::index_sequence<I...> /*unused*/) {
  Result<R> r = Fn(call, read_value<A>(raw[I])...);
  if (!r.ok()) [[unlikely]] {
    return raise(call.state(), std::move(r).error());
  }
  if constexpr (!std::is_void_v<R>) {
    write_value<R>(raw[0], *r);
  }
  return nullptr;
}

template <auto Fn, class F>
struct Invoker;
template <auto Fn, class R, class... A>
struct Invoker<Fn, Result<R> (*)(HostCall&, A...)> {
  static wasm_trap_t* run(HostCall& call, wasmtime_val_raw_t* raw) {
    return invoke_raw<Fn, R, A...>(call, raw, std::index_sequence_for<A...>{});
  }
};

template <auto Fn>
wasm_trap_t* trampoline(void* /*env*/, wasmtime_caller_t* caller, wasmtime_val_raw_t* raw,
                        std::size_t /*n*/) noexcept {
  auto* state = static_cast<CallState*>(wasmtime_context_get_data(wasmtime_caller_context(caller)));
  try {
    HostCall call(caller, *state);
    return Invoker<Fn, decltype(Fn)>::run(call, raw);
  } catch (const std::exception& e) {
    return raise(*state, state->error(ErrorKind::Trap, std::string("host function failed: ") + e.what()));
  } catch (...) {
    return raise(*state, state->error(ErrorKind::Trap, "host function failed"));
  }
}

}  // namespace host_impl

template <auto Fn>
HostFuncDef host_func(std::string_view module, std::string_view name) {
  return HostFuncDef{module, name, host_impl::Traits<decltype(Fn)>::sig(),
                     &host_impl::trampoline<Fn>};
}

/// Defines every function of `defs` in `linker` (store-independent, so the
/// linker can serve instance-pres shared across threads).
[[nodiscard]] Result<void> define_all(wasmtime_linker_t* linker, std::span<const HostFuncDef> defs);

}  // namespace wasmplug::detail
