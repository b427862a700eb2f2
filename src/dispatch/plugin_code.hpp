// The engine-specific part of a Plugin: compiled module, instance-pre, and
// where the ABI's exports sit in the module's export list.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "engine/handle.hpp"

namespace wasmplug::detail {

struct PluginCode {
  ModuleHandle module;
  InstancePreHandle instance_pre;  ///< thread-safe; one store per instantiation
  std::size_t memory_export = 0;   ///< index of the "memory" export
  /// Aligned with AbiSpec::exports: the export's index, when present.
  std::vector<std::optional<std::size_t>> export_index;
};

}  // namespace wasmplug::detail
