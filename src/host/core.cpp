#include "host/core.hpp"

#include <string>
#include <vector>

namespace wasmplug::detail {

namespace {

constexpr std::uint32_t kMaxFailMessage = 4096;

}  // namespace

Result<void> host_log(HostCall& call, std::uint32_t level, std::uint32_t ptr, std::uint32_t len) {
  if (level > static_cast<std::uint32_t>(LogLevel::Error)) {
    return call.error(ErrorKind::AbiViolation,
                      "log: level " + std::to_string(level) + " is not one of 0 (trace) .. 4 (error)");
  }
  auto bytes = call.text("log", "message", ptr, len);
  if (!bytes) {
    return std::move(bytes).error();
  }
  const RuntimeConfig& config = *call.state().config;
  std::string message(bytes->substr(0, config.max_log_message_bytes));
  if (bytes->size() > config.max_log_message_bytes) {
    message += "... [truncated " + std::to_string(bytes->size() - config.max_log_message_bytes) +
               " bytes]";
  }
  config.log_sink(LogRecord{call.state().plugin->name(), static_cast<LogLevel>(level), message});
  return {};
}

namespace {

Result<void> fail(HostCall& call, std::uint32_t ptr, std::uint32_t len) {
  auto bytes = call.text("fail", "message", ptr, len);
  if (!bytes) {
    return std::move(bytes).error();
  }
  std::string message(bytes->substr(0, kMaxFailMessage));
  return call.error(ErrorKind::GuestError, message.empty() ? "guest failed (no message)" : message);
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
