#include "host/core.hpp"

#include <string>
#include <vector>

#include "engine/log_queue.hpp"

namespace wasmplug::detail {

namespace {

constexpr std::uint32_t kMaxFailMessage = 4096;

}  // namespace

Result<void> host_log(HostCall& call, std::uint32_t level, std::uint32_t ptr, std::uint32_t len) {
  if (level > static_cast<std::uint32_t>(LogLevel::Error)) {
    return call.error(ErrorKind::AbiViolation,
                      "log: level " + std::to_string(level) + " is not one of 0 (trace) .. 4 (error)");
  }
  CallState& state = call.state();
  // A level the runtime does not deliver costs a bounds check only (the
  // same check text() makes, without building a Result; text() words the
  // error when it fails).
  if (!state.logs->wants(static_cast<LogLevel>(level)) && call.memory_covering(ptr, len).slice(ptr, len))
      [[likely]] {
    return {};
  }
  auto bytes = call.text("log", "message", ptr, len);
  if (!bytes) {
    return std::move(bytes).error();
  }
  if (!state.logs->wants(static_cast<LogLevel>(level))) {
    return {};
  }
  const RuntimeConfig& config = *state.config;
  // Checked before copying: a guest logging without end costs a counter
  // increment per line past the budget, never host memory or sink time.
  const std::size_t kept = std::min(bytes->size(), config.max_log_message_bytes);
  if (!state.log_budget.admit(kept, bytes->size(), config)) {
    return {};
  }
  state.logs->push(state.plugin->name(), static_cast<LogLevel>(level),
                   escape_guest_text(*bytes, config.max_log_message_bytes));
  return {};
}

namespace {

Result<void> fail(HostCall& call, std::uint32_t ptr, std::uint32_t len) {
  auto bytes = call.text("fail", "message", ptr, len);
  if (!bytes) {
    return std::move(bytes).error();
  }
  if (bytes->empty()) {
    return call.error(ErrorKind::GuestError, "guest failed (no message)");
  }
  return call.error(ErrorKind::GuestError, escape_guest_text(*bytes, kMaxFailMessage));
}

}  // namespace

std::span<const HostFuncDef> core_host_functions() {
  static const std::vector<HostFuncDef> defs = {
      host_func<&host_log>("wasmplug", "log"),
      host_func<&fail>("wasmplug", "fail"),
  };
  return defs;
}

}  // namespace wasmplug::detail
