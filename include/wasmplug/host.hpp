// wasmplug — host functions an embedder gives its plugins.
//
// An embedder registers typed C++ callables in RuntimeConfig::host_functions:
//
//     auto lookup = HostFunction::make("env", "lookup",
//         [&table](HostCallContext& cx, std::uint32_t ptr, std::uint32_t len) -> Result<std::int32_t> {
//           auto key = cx.read_text(ptr, len);  // bounds-checked
//           if (!key) return std::move(key).error();
//           return table.score(*key);
//         });
//
// The wasm signature, here (i32, i32) -> i32, is derived from the callable at
// compile time. A plugin may import a registered function only when its
// LoadOptions::host_functions grants it by module and name; admission rejects
// any other import, and an import whose type differs from the registered one
// (docs/embedding.md, "Host functions"). The public API never exposes engine
// types.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug {

namespace detail {
class HostCall;
}  // namespace detail

class HostCallContext;

/// The wasm value types a host function takes and returns.
enum class ValueType : std::uint8_t { I32, I64, F32, F64 };
[[nodiscard]] std::string_view to_string(ValueType type) noexcept;

/// A host function's wasm signature: its parameters and at most one result.
struct HostSignature {
  std::vector<ValueType> params;
  std::optional<ValueType> result;
  friend bool operator==(const HostSignature&, const HostSignature&) = default;
  /// "(i32, i32) -> i64", "(i64) -> ()": the notation of admission reports.
  [[nodiscard]] std::string to_string() const;
};

/// One wasm value as the type-erased call carries it.
union HostValue {
  std::int32_t i32;
  std::int64_t i64;
  float f32;
  double f64;
};

/// Most parameters a host function may take.
inline constexpr std::size_t kMaxHostFunctionParams = 16;

namespace detail {

// The compile-time machinery shared by embedder host functions and the
// library's own (src/host/host_func.hpp): C++ type -> wasm type, and a C++
// value from/to a slot with members i32/i64/f32/f64 (HostValue or the
// engine's raw value).

template <class T>
inline constexpr bool kIsHostValueType =
    (std::is_integral_v<T> && !std::is_same_v<T, bool> && (sizeof(T) == 4 || sizeof(T) == 8)) ||
    std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
constexpr ValueType value_type_of() {
  static_assert(kIsHostValueType<T>,
                "host function values are 32/64-bit integers (signed or not), float or double");
  if constexpr (std::is_same_v<T, float>) {
    return ValueType::F32;
  } else if constexpr (std::is_same_v<T, double>) {
    return ValueType::F64;
  } else {
    return sizeof(T) == 4 ? ValueType::I32 : ValueType::I64;
  }
}

template <class T, class Slot>
T read_value(const Slot& raw) {
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

template <class T, class Slot>
void write_value(Slot& raw, T value) {
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

/// The signature of a function `Result<R>(Context&, A...)`.
template <class R, class... A>
HostSignature signature_of() {
  static_assert(sizeof...(A) <= kMaxHostFunctionParams, "a host function takes at most 16 parameters");
  HostSignature sig{{value_type_of<A>()...}, std::nullopt};
  if constexpr (!std::is_void_v<R>) {
    sig.result = value_type_of<R>();
  }
  return sig;
}

/// Calls `fn(context, args...)` with the arguments read from `slots` and
/// writes its value (if any) to slots[0]; the function's Error otherwise.
template <class R, class... A, class Fn, class Context, class Slot, std::size_t... I>
Result<void> invoke_with_slots(const Fn& fn, Context& context, Slot* slots, std::index_sequence<I...> /*unused*/) {
  Result<R> r = fn(context, read_value<A>(slots[I])...);
  if (!r) {
    return std::move(r).error();
  }
  if constexpr (!std::is_void_v<R>) {
    write_value<R>(slots[0], r.value());
  }
  return {};
}

template <class T>
struct ResultOf;
template <class R>
struct ResultOf<Result<R>> {
  using type = R;
};

/// Parameters and result of an embedder callable: a function pointer or an
/// object with a const operator() (it is called on many threads at once, so
/// a mutable lambda is refused at compile time).
template <class F>
struct CallableTraits : CallableTraits<decltype(&F::operator())> {};
template <class R, class C, class... A>
struct CallableTraits<Result<R> (C::*)(HostCallContext&, A...) const> {
  using Value = R;
  using Args = std::tuple<A...>;
};
template <class R, class C, class... A>
struct CallableTraits<Result<R> (C::*)(HostCallContext&, A...) const noexcept> {
  using Value = R;
  using Args = std::tuple<A...>;
};
template <class R, class C, class... A>
struct CallableTraits<Result<R> (C::*)(HostCallContext&, A...)> {
  static_assert(sizeof(C) == 0,
                "a host function is called on many threads at once: its operator() must be const (not a mutable "
                "lambda); keep changing state in atomics or behind a mutex");
};
template <class R, class... A>
struct CallableTraits<Result<R> (*)(HostCallContext&, A...)> {
  using Value = R;
  using Args = std::tuple<A...>;
};
template <class R, class... A>
struct CallableTraits<Result<R> (*)(HostCallContext&, A...) noexcept> {
  using Value = R;
  using Args = std::tuple<A...>;
};

}  // namespace detail

/// What an embedder's host function sees of the call that invoked it: which
/// plugin and hook, the guest's memory (bounds-checked, only during the
/// callback) and a way to fail the call with a precise Error. Valid only
/// during the callback; do not keep it or anything it returns.
class HostCallContext {
 public:
  /// The plugin making the call (LoadOptions::name).
  [[nodiscard]] const std::string& plugin() const noexcept;
  /// The hook in progress; nullopt while the plugin initialises (start
  /// function, _initialize, wp_init).
  [[nodiscard]] std::optional<Hook> hook() const noexcept;
  /// "module.name" of the host function being called.
  [[nodiscard]] const std::string& function() const noexcept;

  /// The guest bytes [ptr, ptr+len), read-only, valid until the callback
  /// returns. AbiViolation ("<module.name>: argument range [...] lies outside
  /// guest memory of N bytes") when any of them lies outside guest memory;
  /// return that error to fail the call.
  [[nodiscard]] Result<std::span<const std::uint8_t>> read(std::uint32_t ptr, std::uint32_t len);
  /// As read(), as text (the raw bytes: not checked for UTF-8).
  [[nodiscard]] Result<std::string_view> read_text(std::uint32_t ptr, std::uint32_t len);
  /// Copies `bytes` into guest memory at `ptr`; AbiViolation when
  /// [ptr, ptr+size) is not all inside guest memory (nothing is written then).
  [[nodiscard]] Result<void> write(std::uint32_t ptr, std::span<const std::uint8_t> bytes);
  /// The guest memory's size in bytes now.
  [[nodiscard]] std::uint64_t memory_size() const noexcept;

  /// Timeout once the call is past its deadline (wall or CPU). The runtime
  /// cannot interrupt host code: a callback that works or waits long should
  /// call this every so often and return its error.
  [[nodiscard]] Result<void> check_deadline() const;
  /// An Error of `kind` for this call: plugin, hook and phase filled in.
  /// Returned from the callback, it reaches the caller of Runtime::call as is.
  [[nodiscard]] Error error(ErrorKind kind, std::string message) const;

  /// Made by the library for each callback.
  HostCallContext(detail::HostCall& call, const std::string& function) noexcept
      : call_(call), function_(function) {}

 private:
  detail::HostCall& call_;
  const std::string& function_;
};

/// One host function an embedder offers to plugins: module, name, wasm
/// signature and a C++ callable. Cheap to copy (shared, immutable).
///
/// The callable is `Result<R>(HostCallContext&, A...) const`, with A and R
/// 32/64-bit integers, float or double (R may be void: no result). It is
/// called on whichever thread runs the plugin, concurrently: keep shared state
/// thread-safe (atomics, a mutex). State it captures lives as long as any
/// Runtime or Plugin that uses the function. An exception it throws is caught
/// and fails the call with Trap naming the function; it never reaches the
/// caller or crashes the host.
class HostFunction {
 public:
  /// Type-erased call: arguments in `slots[0..params)`, the result (if any)
  /// written to `slots[0]`.
  using Erased = std::function<Result<void>(HostCallContext&, std::span<HostValue>)>;

  /// A host function `module.name` calling `fn`; the signature comes from
  /// fn's parameter and result types. Names are checked at registration
  /// (Runtime::create).
  template <class F>
  [[nodiscard]] static HostFunction make(std::string module, std::string name, F fn) {
    using Traits = detail::CallableTraits<std::decay_t<F>>;
    return make_typed<typename Traits::Value>(std::move(module), std::move(name), std::move(fn),
                                              static_cast<typename Traits::Args*>(nullptr));
  }

  [[nodiscard]] const std::string& module() const noexcept { return impl_->module; }
  [[nodiscard]] const std::string& name() const noexcept { return impl_->name; }
  /// "module.name".
  [[nodiscard]] const std::string& full_name() const noexcept { return impl_->full_name; }
  [[nodiscard]] const HostSignature& signature() const noexcept { return impl_->signature; }
  /// For the library: runs the callable (exceptions propagate to the caller).
  [[nodiscard]] Result<void> invoke(HostCallContext& context, std::span<HostValue> slots) const {
    return impl_->call(context, slots);
  }

 private:
  struct Impl {
    std::string module;
    std::string name;
    std::string full_name;
    HostSignature signature;
    Erased call;
  };

  template <class R, class F, class... A>
  static HostFunction make_typed(std::string module, std::string name, F fn, std::tuple<A...>* /*unused*/) {
    auto impl = std::make_shared<Impl>();
    impl->full_name = module + "." + name;
    impl->module = std::move(module);
    impl->name = std::move(name);
    impl->signature = detail::signature_of<R, A...>();
    impl->call = [fn = std::move(fn)](HostCallContext& context, std::span<HostValue> slots) -> Result<void> {
      return detail::invoke_with_slots<R, A...>(fn, context, slots.data(), std::index_sequence_for<A...>{});
    };
    return HostFunction(std::move(impl));
  }
  explicit HostFunction(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace wasmplug
