// rustcdc's host functions, module "env" (docs/profiles/rustcdc.md):
//   log(level: i32, ptr: i32, len: i32)         — same as wasmplug.log
//   get_metric(name_ptr: i32) -> i64             — current value, 0 if never recorded
//   record_metric(name_ptr: i32, value: i64)     — adds `value` to the named counter
// Metric names are NUL-terminated, 1..255 bytes; the counters belong to the
// plugin version (shared by its instances) and are readable by the host
// through Plugin::guest_metrics().
#pragma once

#include <span>

#include "host/host_func.hpp"

namespace wasmplug::detail {

inline constexpr std::size_t kMaxMetricName = 255;

[[nodiscard]] std::span<const HostFuncDef> rustcdc_host_functions();

}  // namespace wasmplug::detail
