// wasmplug's WASI preview1 capability set, module "wasi_snapshot_preview1".
//
// Deny by default: a plugin may import these only with LoadOptions::wasi, and
// no other WASI function at all (admission names it). The set gives a guest
// toolchain's runtime (wasi-libc, Go's wasip1 port) what it needs to start and
// print, and no capability beyond the call:
//   fd_write(1|2, ...)                  → the plugin's log (per line, under the
//                                         call's log budget; 1 = info, 2 = warn;
//                                         a line may span writes of one call)
//   clock_time_get / clock_res_get      → realtime and monotonic clocks
//   random_get                          → the host's CSPRNG (getrandom)
//   args_* / environ_*                  → empty
//   sched_yield                         → nothing
//   poll_oneoff                         → clock subscriptions only, sleeping
//                                         at most until the call's deadline
//   proc_exit(0)                        → the call ends normally (drop/done)
//   proc_exit(n != 0)                   → GuestError
//   fd_fdstat_get(1|2)                  → a write-only character device
//   fd_prestat_get / _dir_name          → EBADF: no preopened directories
//   fd_close / fd_seek / fd_fdstat_set_flags → answered without effect
//                                         (wasi-libc's stdio and Go's os
//                                         package import them)
// Guest memory is reached only through HostCall (bounds-checked); a pointer
// or length outside memory fails the call with AbiViolation.
#pragma once

#include <span>
#include <string_view>

#include "host/host_func.hpp"

namespace wasmplug::detail {

inline constexpr std::string_view kWasiModule = "wasi_snapshot_preview1";

/// Every function of the capability set (linked in every profile's linker;
/// admission decides whether a plugin may import them).
[[nodiscard]] std::span<const HostFuncDef> wasi_host_functions();

}  // namespace wasmplug::detail
