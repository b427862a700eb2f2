// wasmplug — errors and Result<T>.
//
// Every fallible public call returns Result<T>: either a value or an Error
// that says what failed (kind), where in the call it failed (phase), for which
// plugin and hook, and a message a user can act on. No exception crosses the
// public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace wasmplug {

/// What went wrong. Stable: used as a metric label and in CLI output.
enum class ErrorKind : std::uint8_t {
  InvalidArgument,    ///< the host passed something unusable (bad config, size 0 ...)
  Io,                 ///< a file could not be read
  CompileFailed,      ///< the bytes are not a valid WebAssembly module
  Rejected,           ///< valid wasm, but admission policy refuses it
  InstantiateFailed,  ///< the engine could not instantiate the module
  PoolSaturated,      ///< every instance slot is in use; retry later
  Timeout,            ///< the call ran past its deadline (epoch interruption)
  OutOfFuel,          ///< the call used up its fuel budget
  MemoryLimit,        ///< the guest failed after reaching its memory limit
  Trap,               ///< the guest trapped (see Error::trap)
  AbiViolation,       ///< the guest broke the ABI contract (bad pointer, bad value)
  GuestError,         ///< the guest reported an error itself (`fail` / init result)
  LimitExceeded,      ///< an input or output is larger than the plugin's limit
  Tripped,            ///< a fail-closed Registry slot tripped after repeated failures
};

/// Where in the life of a plugin or a call the failure happened.
enum class Phase : std::uint8_t {
  Config,       ///< runtime configuration
  Load,         ///< reading the module bytes
  Compile,      ///< validating and compiling
  Admit,        ///< admission policy
  Instantiate,  ///< creating the instance (includes the start function)
  Init,         ///< `_initialize` / `wp_init`
  Alloc,        ///< the guest allocator, called by the host
  Write,        ///< copying the input into guest memory
  Call,         ///< the hook itself
  Read,         ///< reading the output out of guest memory
  Free,         ///< the guest deallocator, called by the host
  Shutdown,     ///< `wp_shutdown`
};

/// The wasm trap behind ErrorKind::Trap (and Timeout/OutOfFuel).
enum class TrapCode : std::uint8_t {
  None,
  StackOverflow,
  MemoryOutOfBounds,
  HeapMisaligned,
  TableOutOfBounds,
  IndirectCallToNull,
  BadSignature,
  IntegerOverflow,
  IntegerDivisionByZero,
  BadConversionToInteger,
  Unreachable,
  Interrupt,
  OutOfFuel,
  HostTrap,  ///< raised by a host function
  Other,
};

[[nodiscard]] std::string_view to_string(ErrorKind kind) noexcept;
[[nodiscard]] std::string_view to_string(Phase phase) noexcept;
[[nodiscard]] std::string_view to_string(TrapCode code) noexcept;

/// One error type for the whole library. Plain value; copyable.
struct Error {
  ErrorKind kind = ErrorKind::InvalidArgument;
  Phase phase = Phase::Config;
  std::string plugin;   ///< plugin name, empty when not about a plugin
  std::string hook;     ///< hook name ("transform", ...), empty outside calls
  std::string message;  ///< what happened, in words a user can act on
  TrapCode trap = TrapCode::None;

  /// "Timeout in call (plugin 'redact', hook 'transform'): ..." — one line.
  [[nodiscard]] std::string to_string() const;
};

namespace detail {
/// Prints "wasmplug: Result::value() called on an error: <error>" (or the
/// error() counterpart) to stderr and aborts. Never throws.
[[noreturn]] void bad_result_access(const Error* error) noexcept;
}  // namespace detail

/// Either a T or an Error. [[nodiscard]]: ignoring a Result is a bug.
///
/// Access is checked and never throws: value() (and *, ->) on an error, or
/// error() on a value, is a programming error that prints the error and
/// aborts the process. Test ok() first, or use value_or().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// Precondition: ok() (checked: aborts with the error otherwise).
  [[nodiscard]] T& value() & { return *checked_value(); }
  [[nodiscard]] const T& value() const& { return *checked_value(); }
  [[nodiscard]] T&& value() && { return std::move(*checked_value()); }
  /// The value, or `fallback` when this holds an error.
  [[nodiscard]] T value_or(T fallback) const& { return ok() ? *checked_value() : std::move(fallback); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// Precondition: !ok() (checked: aborts otherwise).
  [[nodiscard]] const Error& error() const& { return *checked_error(); }
  [[nodiscard]] Error&& error() && { return std::move(*checked_error()); }

 private:
  // Self is Result or const Result: one body for both constnesses.
  template <class Self>
  static auto* value_of(Self& self) noexcept {
    if (auto* v = std::get_if<0>(&self.v_)) {
      return v;
    }
    detail::bad_result_access(std::get_if<1>(&self.v_));
  }
  template <class Self>
  static auto* error_of(Self& self) noexcept {
    if (auto* e = std::get_if<1>(&self.v_)) {
      return e;
    }
    detail::bad_result_access(nullptr);
  }
  T* checked_value() noexcept { return value_of(*this); }
  const T* checked_value() const noexcept { return value_of(*this); }
  Error* checked_error() noexcept { return error_of(*this); }
  const Error* checked_error() const noexcept { return error_of(*this); }

  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// Precondition: !ok() (checked: aborts otherwise).
  [[nodiscard]] const Error& error() const& {
    if (!error_) {
      detail::bad_result_access(nullptr);
    }
    return *error_;
  }
  [[nodiscard]] Error&& error() && {
    if (!error_) {
      detail::bad_result_access(nullptr);
    }
    return std::move(*error_);
  }

 private:
  // Optional, not a plain Error: a success (every host-function return, every
  // step of a call) then builds and destroys no strings.
  std::optional<Error> error_;
};

}  // namespace wasmplug
