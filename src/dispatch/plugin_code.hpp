// The engine-specific part of a Plugin: compiled module, instance-pre, and
// where the ABI's exports sit in the module's export list.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "dispatch/warm_pool.hpp"
#include "engine/engine.hpp"
#include "engine/handle.hpp"

namespace wasmplug::detail {

struct PluginCode {
  /// Keeps the engine (and its ticker) alive as long as the plugin.
  std::shared_ptr<const Engine> engine;
  ModuleHandle module;
  InstancePreHandle instance_pre;  ///< thread-safe; one store per instantiation
  std::size_t memory_export = 0;   ///< index of the "memory" export
  /// Aligned with AbiSpec::exports: the export's index, when present.
  std::vector<std::optional<std::size_t>> export_index;
  /// Ready instances, for Isolation::Warm (null for fresh). Thread-safe.
  std::unique_ptr<WarmPool> pool;
  /// MetricsSink::resolve() per hook, filled on first use.
  mutable std::array<std::atomic<void*>, 3> metrics_series{};
};

}  // namespace wasmplug::detail
