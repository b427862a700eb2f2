// Shared by the libFuzzer targets: the one Runtime of the process and the
// checks that turn "the host misbehaved" into a crash libFuzzer reports.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "wasmplug/runtime.hpp"

namespace wasmplug::fuzz {

/// Prints what went wrong and aborts: libFuzzer saves the input as a crash.
[[noreturn]] inline void die(std::string_view what, const Error* error = nullptr) {
  std::fprintf(stderr, "\nFUZZ CHECK FAILED: %.*s\n", static_cast<int>(what.size()), what.data());
  if (error != nullptr) {
    std::fprintf(stderr, "  error: %s\n", error->to_string().c_str());
  }
  std::abort();
}

/// FUZZ_VERBOSE=1 in the environment: print every outcome (to see what a
/// reproducer does).
inline bool verbose() {
  static const bool on = std::getenv("FUZZ_VERBOSE") != nullptr;
  return on;
}

/// In verbose mode, prints one call's outcome.
template <class T>
void trace(std::string_view operation, const Result<T>& result) {
  if (verbose()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(operation.size()), operation.data(),
                 result ? "ok" : result.error().to_string().c_str());
  }
}

/// One Runtime for the whole process, sized small so that a leak of instance
/// slots shows up quickly as PoolSaturated. Guest logs are dropped.
inline Runtime& runtime() {
  static std::unique_ptr<Runtime> instance = [] {
    RuntimeConfig config;
    config.max_instances = 16;
    config.max_memory_bytes = 4u << 20;
    config.max_table_elements = 1000;
    config.max_module_bytes = 1u << 20;
    config.log_sink = [](const LogRecord&) {};
    auto created = Runtime::create(std::move(config));
    if (!created) {
      die("Runtime::create", &created.error());
    }
    return std::move(created).value();
  }();
  return *instance;
}

/// True when at most `bound` instances are alive once retirement settled:
/// instances of dropped plugins and recycled ones are shut down on the
/// runtime's retirer thread, so a count above the bound waits for it first.
inline bool instances_settle_to(std::uint32_t bound) {
  if (runtime().live_instances() <= bound) {
    return true;
  }
  return runtime().quiesce() && runtime().live_instances() <= bound;
}

/// Limits of every fuzzed plugin: a short deadline and a small memory.
inline Limits small_limits() {
  Limits limits;
  limits.memory_bytes = 1u << 20;
  limits.table_elements = 1000;
  limits.deadline = std::chrono::milliseconds(10);
  limits.max_input_bytes = 64u << 10;
  limits.max_output_bytes = 64u << 10;
  return limits;
}

/// An Error must be complete: a known kind and phase, a message, and one of
/// the kinds `allowed` for the operation that produced it.
inline void check_error(std::string_view operation, const Error& error, std::initializer_list<ErrorKind> allowed) {
  if (static_cast<unsigned>(error.kind) > static_cast<unsigned>(ErrorKind::Tripped)) {
    die(std::string(operation) + ": error kind out of range", &error);
  }
  if (static_cast<unsigned>(error.phase) > static_cast<unsigned>(Phase::Shutdown)) {
    die(std::string(operation) + ": error phase out of range", &error);
  }
  if (static_cast<unsigned>(error.trap) > static_cast<unsigned>(TrapCode::Other)) {
    die(std::string(operation) + ": trap code out of range", &error);
  }
  if (error.message.empty()) {
    die(std::string(operation) + ": error without a message", &error);
  }
  for (ErrorKind kind : allowed) {
    if (kind == error.kind) {
      return;
    }
  }
  die(std::string(operation) + ": unexpected error kind " + std::string(to_string(error.kind)), &error);
}

/// The kinds a hook call may fail with when the guest misbehaves. Never
/// PoolSaturated (calls here run one at a time on a big enough pool), never
/// an admission or I/O kind.
inline constexpr std::initializer_list<ErrorKind> kCallKinds = {
    ErrorKind::Timeout,     ErrorKind::OutOfFuel,    ErrorKind::MemoryLimit, ErrorKind::Trap,
    ErrorKind::AbiViolation, ErrorKind::GuestError, ErrorKind::LimitExceeded, ErrorKind::InstantiateFailed,
};

/// A call error must also name the plugin and the hook, and fail in a phase
/// of a call.
inline void check_call_error(std::string_view operation, const Error& error, const Plugin& plugin, Hook hook,
                             std::initializer_list<ErrorKind> allowed = kCallKinds) {
  check_error(operation, error, allowed);
  if (error.plugin != plugin.name()) {
    die(std::string(operation) + ": error names plugin '" + error.plugin + "', not '" + plugin.name() + "'", &error);
  }
  if (error.phase < Phase::Instantiate) {
    die(std::string(operation) + ": a call failed in a load phase", &error);
  }
  if (error.phase >= Phase::Alloc && error.phase <= Phase::Free && error.hook != to_string(hook)) {
    die(std::string(operation) + ": error names hook '" + error.hook + "'", &error);
  }
}

}  // namespace wasmplug::fuzz
