// The core host function set of the native ABI, module "wasmplug":
//   log(level: i32, ptr: i32, len: i32)   — a log line to the runtime's LogSink
//   fail(ptr: i32, len: i32)              — the guest fails the call with a message
#pragma once

#include <span>

#include "host/host_func.hpp"

namespace wasmplug::detail {

[[nodiscard]] std::span<const HostFuncDef> core_host_functions();

}  // namespace wasmplug::detail
