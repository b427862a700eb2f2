// The engine-specific part of a Plugin: compiled module, instance-pre, and
// where the ABI's exports sit in the module's export list.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <memory>
#include <optional>
#include <vector>

#include "engine/engine.hpp"
#include "engine/export_table.hpp"
#include "engine/handle.hpp"

namespace wasmplug::detail {

// isolation/ (above this folder) defines it; PluginCode is destroyed only
// where it is complete (runtime.cpp).
class WarmPool;

/// Named counters a guest keeps through host functions (rustcdc's
/// get_metric/record_metric), shared by all instances of one plugin version.
struct GuestMetrics {
  mutable std::mutex mutex;
  std::map<std::string, std::int64_t, std::less<>> values;
  std::uint64_t name_bytes = 0;  ///< sum of the names' sizes (Limits::max_guest_metric_name_bytes)
};

struct PluginCode {
  /// Keeps the engine (and its ticker) alive as long as the plugin.
  std::shared_ptr<const Engine> engine;
  ModuleHandle module;
  InstancePreHandle instance_pre;  ///< thread-safe; one store per instantiation
  std::size_t memory_export = 0;   ///< index of the "memory" export
  /// Aligned with AbiSpec::exports: the export's index, when present.
  std::vector<std::optional<std::size_t>> export_index;
  /// Aligned with export_index: the export's name (views of the static
  /// AbiSpec), and the memory export's.
  std::vector<std::string_view> export_name;
  std::string_view memory_name;
  /// [memory_name, export_name...] resolved to Wasmtime's export indices,
  /// made by the plugin's first instance (Instance::create); owned here.
  mutable SharedExportTable exports;
  /// Ready instances, for Isolation::Warm (null for fresh). Thread-safe.
  std::unique_ptr<WarmPool> pool;
  mutable GuestMetrics guest_metrics;
  /// MetricsSink::resolve() per hook, filled on first use.
  mutable std::array<std::atomic<void*>, 3> metrics_series{};
};

}  // namespace wasmplug::detail
