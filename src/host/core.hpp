// The core host function set of the native ABI, module "wasmplug":
//   log(level: i32, ptr: i32, len: i32)   — a log line to the runtime's LogSink
//   fail(ptr: i32, len: i32)              — the guest fails the call with a message
#pragma once

#include <span>

#include "host/host_func.hpp"

namespace wasmplug::detail {

[[nodiscard]] std::span<const HostFuncDef> core_host_functions();

/// The log function itself, shared with profiles that bind it under another
/// module name (rustcdc's env.log). Levels 0 trace .. 4 error.
[[nodiscard]] Result<void> host_log(HostCall& call, std::uint32_t level, std::uint32_t ptr, std::uint32_t len);

}  // namespace wasmplug::detail
