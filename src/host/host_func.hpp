// Typed host functions. A host function is a plain C++ function
//
//     Result<R> fn(HostCall& call, A... args);   // R, A: (u)int32, (u)int64, float, double
//
// host_func<&fn>(module, name) derives its wasm signature at compile time and
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

#include "dispatch/call_state.hpp"
#include "dispatch/guest_memory.hpp"
#include "engine/types.hpp"
#include "wasmplug/error.hpp"

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
    return state_.covering(wasmtime_caller_context(caller_), ptr, len);
  }
  /// The guest bytes [ptr, ptr+len) as text, valid until the host function
  /// returns; AbiViolation "<function>: <what> range ... lies outside guest
  /// memory ..." when they are not all inside memory.
  [[nodiscard]] Result<std::string_view> text(std::string_view function, std::string_view what, std::uint32_t ptr,
                                              std::uint32_t len) {
    GuestMemory memory = memory_covering(ptr, len);
    auto bytes = memory.slice(ptr, len);
    if (!bytes) {
      return error(ErrorKind::AbiViolation, std::string(function) + ": " + std::string(what) + " " +
                                                memory.describe_out_of_bounds(ptr, len));
    }
    return std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
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

 private:
  wasmtime_caller_t* caller_;
  CallState& state_;
};

/// A host function ready to be linked and to be matched at admission.
struct HostFuncDef {
  std::string_view module;
  std::string_view name;
  FuncSig sig;
  wasmtime_func_unchecked_callback_t callback;
};

namespace host_impl {

template <class T>
constexpr ValType val_type() {
  static_assert((std::is_integral_v<T> && (sizeof(T) == 4 || sizeof(T) == 8)) || std::is_same_v<T, float> ||
                    std::is_same_v<T, double>,
                "host function values are 32/64-bit integers, float or double");
  if constexpr (std::is_same_v<T, float>) {
    return ValType::F32;
  } else if constexpr (std::is_same_v<T, double>) {
    return ValType::F64;
  } else {
    return sizeof(T) == 4 ? ValType::I32 : ValType::I64;
  }
}

template <class T>
T read(const wasmtime_val_raw_t& raw) {
  if constexpr (std::is_same_v<T, float>) {
    return raw.f32;
  } else if constexpr (std::is_same_v<T, double>) {
    return raw.f64;
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(raw.i32);
  } else {
    return static_cast<T>(raw.i64);
  }
}

template <class T>
void write(wasmtime_val_raw_t& raw, T value) {
  if constexpr (std::is_same_v<T, float>) {
    raw.f32 = value;
  } else if constexpr (std::is_same_v<T, double>) {
    raw.f64 = value;
  } else if constexpr (sizeof(T) == 4) {
    raw.i32 = static_cast<std::int32_t>(value);
  } else {
    raw.i64 = static_cast<std::int64_t>(value);
  }
}

template <class F>
struct Traits;

template <class R, class... A>
struct Traits<Result<R> (*)(HostCall&, A...)> {
  static FuncSig sig() {
    FuncSig s{{val_type<A>()...}, {}};
    if constexpr (!std::is_void_v<R>) {
      s.results.push_back(val_type<R>());
    }
    return s;
  }
  template <auto Fn, std::size_t... I>
  static Result<void> invoke(HostCall& call, wasmtime_val_raw_t* raw, std::index_sequence<I...>) {
    Result<R> r = Fn(call, read<A>(raw[I])...);
    if (!r) {
      return std::move(r).error();
    }
    if constexpr (!std::is_void_v<R>) {
      write<R>(raw[0], r.value());
    }
    return {};
  }
  static constexpr std::size_t kArity = sizeof...(A);
};

wasm_trap_t* raise(CallState& state, Error error);

template <auto Fn>
wasm_trap_t* trampoline(void* /*env*/, wasmtime_caller_t* caller, wasmtime_val_raw_t* raw,
                        std::size_t /*n*/) noexcept {
  auto* state = static_cast<CallState*>(wasmtime_context_get_data(wasmtime_caller_context(caller)));
  using T = Traits<decltype(Fn)>;
  try {
    HostCall call(caller, *state);
    Result<void> r = T::template invoke<Fn>(call, raw, std::make_index_sequence<T::kArity>{});
    if (!r) {
      return raise(*state, std::move(r).error());
    }
    return nullptr;
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
