// Names of the public enums: stable, used in messages, CLI output and metrics.
#include <cstdio>
#include <cstdlib>

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "InvalidArgument";
    case ErrorKind::Io: return "Io";
    case ErrorKind::CompileFailed: return "CompileFailed";
    case ErrorKind::Rejected: return "Rejected";
    case ErrorKind::InstantiateFailed: return "InstantiateFailed";
    case ErrorKind::PoolSaturated: return "PoolSaturated";
    case ErrorKind::Timeout: return "Timeout";
    case ErrorKind::OutOfFuel: return "OutOfFuel";
    case ErrorKind::MemoryLimit: return "MemoryLimit";
    case ErrorKind::Trap: return "Trap";
    case ErrorKind::AbiViolation: return "AbiViolation";
    case ErrorKind::GuestError: return "GuestError";
    case ErrorKind::LimitExceeded: return "LimitExceeded";
    case ErrorKind::Tripped: return "Tripped";
  }
  return "Unknown";
}

std::string_view to_string(Phase phase) noexcept {
  switch (phase) {
    case Phase::Config: return "config";
    case Phase::Load: return "load";
    case Phase::Compile: return "compile";
    case Phase::Admit: return "admit";
    case Phase::Instantiate: return "instantiate";
    case Phase::Init: return "init";
    case Phase::Alloc: return "alloc";
    case Phase::Write: return "write";
    case Phase::Call: return "call";
    case Phase::Read: return "read";
    case Phase::Free: return "free";
    case Phase::Shutdown: return "shutdown";
  }
  return "unknown";
}

std::string_view to_string(TrapCode code) noexcept {
  switch (code) {
    case TrapCode::None: return "none";
    case TrapCode::StackOverflow: return "stack_overflow";
    case TrapCode::MemoryOutOfBounds: return "memory_out_of_bounds";
    case TrapCode::HeapMisaligned: return "heap_misaligned";
    case TrapCode::TableOutOfBounds: return "table_out_of_bounds";
    case TrapCode::IndirectCallToNull: return "indirect_call_to_null";
    case TrapCode::BadSignature: return "bad_signature";
    case TrapCode::IntegerOverflow: return "integer_overflow";
    case TrapCode::IntegerDivisionByZero: return "integer_division_by_zero";
    case TrapCode::BadConversionToInteger: return "bad_conversion_to_integer";
    case TrapCode::Unreachable: return "unreachable";
    case TrapCode::Interrupt: return "interrupt";
    case TrapCode::OutOfFuel: return "out_of_fuel";
    case TrapCode::HostTrap: return "host_trap";
    case TrapCode::Other: return "other";
  }
  return "unknown";
}

namespace detail {

void bad_result_access(const Error* error) noexcept {
  if (error != nullptr) {
    std::fprintf(stderr, "wasmplug: Result::value() called on an error: %s\n", error->to_string().c_str());
  } else {
    std::fprintf(stderr, "wasmplug: Result::error() called on a Result that holds a value\n");
  }
  std::abort();
}

}  // namespace detail

std::string Error::to_string() const {
  std::string out(wasmplug::to_string(kind));
  if (trap != TrapCode::None && trap != TrapCode::HostTrap && kind == ErrorKind::Trap) {
    out += "(" + std::string(wasmplug::to_string(trap)) + ")";
  }
  out += " in ";
  out += wasmplug::to_string(phase);
  if (!plugin.empty() || !hook.empty()) {
    out += " (";
    if (!plugin.empty()) {
      out += "plugin '" + plugin + "'";
    }
    if (!hook.empty()) {
      out += std::string(plugin.empty() ? "" : ", ") + "hook '" + hook + "'";
    }
    out += ")";
  }
  out += ": " + message;
  return out;
}

std::string_view to_string(AbiProfile abi) noexcept {
  switch (abi) {
    case AbiProfile::Native: return "native";
    case AbiProfile::CcLb: return "cc-lb";
    case AbiProfile::Rustcdc: return "rustcdc";
    case AbiProfile::Kestrel: return "kestrel";
  }
  return "unknown";
}

std::string_view to_string(Hook hook) noexcept {
  switch (hook) {
    case Hook::Filter: return "filter";
    case Hook::Transform: return "transform";
    case Hook::Observe: return "observe";
  }
  return "unknown";
}

std::string_view to_string(Isolation isolation) noexcept {
  switch (isolation) {
    case Isolation::Fresh: return "fresh";
    case Isolation::Warm: return "warm";
  }
  return "unknown";
}

std::optional<Hook> parse_hook(std::string_view name) noexcept {
  for (Hook hook : {Hook::Filter, Hook::Transform, Hook::Observe}) {
    if (to_string(hook) == name) {
      return hook;
    }
  }
  return std::nullopt;
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Trace: return "trace";
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "unknown";
}

std::string_view to_string(Output::Kind kind) noexcept {
  switch (kind) {
    case Output::Kind::Bytes: return "bytes";
    case Output::Kind::Keep: return "keep";
    case Output::Kind::Drop: return "drop";
    case Output::Kind::Done: return "done";
  }
  return "unknown";
}

bool AdmissionReport::exports_hook(Hook hook) const noexcept {
  for (Hook h : hooks) {
    if (h == hook) {
      return true;
    }
  }
  return false;
}

}  // namespace wasmplug
