#include "host/rustcdc.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "instance/plugin_code.hpp"
#include "host/core.hpp"

namespace wasmplug::detail {

namespace {

// The name as a view into guest memory (valid until the host function
// returns): a lookup allocates nothing, only a new counter copies its name.
Result<std::string_view> metric_name(HostCall& call, std::uint32_t ptr, const char* function) {
  GuestMemory memory = call.memory();
  // Look at most kMaxMetricName + 1 bytes for the terminating NUL.
  const std::uint64_t available = ptr < memory.size() ? memory.size() - ptr : 0;
  auto bytes = memory.slice(ptr, std::min<std::uint64_t>(available, kMaxMetricName + 1));
  const void* nul = nullptr;
  if (bytes.has_value() && !bytes->empty()) {
    nul = std::memchr(bytes->data(), 0, bytes->size());
  }
  if (!bytes.has_value() || nul == nullptr) {
    return call.error(ErrorKind::AbiViolation, std::string(function) + ": the metric name at " + std::to_string(ptr) +
                                                   " is not NUL-terminated within " +
                                                   std::to_string(kMaxMetricName + 1) + " bytes of guest memory");
  }
  std::string_view name(reinterpret_cast<const char*>(bytes->data()),
                        static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - bytes->data()));
  if (name.empty()) {
    return call.error(ErrorKind::AbiViolation, std::string(function) + ": empty metric name");
  }
  return name;
}

Result<std::int64_t> get_metric(HostCall& call, std::uint32_t ptr) {
  auto name = metric_name(call, ptr, "get_metric");
  if (!name) {
    return std::move(name).error();
  }
  GuestMetrics& metrics = call.state().plugin->code().guest_metrics;
  std::lock_guard lock(metrics.mutex);
  auto it = metrics.values.find(*name);
  return it == metrics.values.end() ? std::int64_t{0} : it->second;
}

Result<void> record_metric(HostCall& call, std::uint32_t ptr, std::int64_t value) {
  auto name = metric_name(call, ptr, "record_metric");
  if (!name) {
    return std::move(name).error();
  }
  const Limits& limits = call.state().plugin->limits();
  GuestMetrics& metrics = call.state().plugin->code().guest_metrics;
  std::lock_guard lock(metrics.mutex);
  auto it = metrics.values.find(*name);
  if (it == metrics.values.end()) {
    if (metrics.values.size() >= limits.max_guest_metrics) {
      return call.error(ErrorKind::LimitExceeded, "record_metric: a new metric would exceed Limits::max_guest_metrics (" +
                                                      std::to_string(limits.max_guest_metrics) + " names)");
    }
    if (metrics.name_bytes + name->size() > limits.max_guest_metric_name_bytes) {
      return call.error(ErrorKind::LimitExceeded,
                        "record_metric: a new metric would exceed Limits::max_guest_metric_name_bytes (" +
                            std::to_string(limits.max_guest_metric_name_bytes) + " bytes of names)");
    }
    it = metrics.values.emplace(std::string(*name), 0).first;
    metrics.name_bytes += name->size();
  }
  // Wrapping add: a guest cannot make the host overflow.
  it->second = static_cast<std::int64_t>(static_cast<std::uint64_t>(it->second) + static_cast<std::uint64_t>(value));
  return {};
}

}  // namespace

std::span<const HostFuncDef> rustcdc_host_functions() {
  static const std::vector<HostFuncDef> defs = {
      host_func<&host_log>("env", "log"),
      host_func<&get_metric>("env", "get_metric"),
      host_func<&record_metric>("env", "record_metric"),
  };
  return defs;
}

}  // namespace wasmplug::detail
