// Exports of a core module by precomputed index (rust/src/exports.rs): the
// C API's export_nth builds every export before the one asked for and
// export_get hashes the name, and a fresh call resolves the ABI's exports of
// each new instance.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <wasmtime.h>

#include "engine/handle.hpp"

extern "C" {
typedef struct wasmplug_export_table wasmplug_export_table;
/* A table for n names of the module `instance` was made from; never null. */
wasmplug_export_table* wasmplug_export_table_new(wasmtime_context_t* store, const wasmtime_instance_t* instance,
                                                 const uint8_t* const* names, const size_t* lens, size_t n);
void wasmplug_export_table_delete(wasmplug_export_table* table);
/* items[i], found[i] for each of the table's n names (room for n each). An
 * instance of another module finds nothing. */
void wasmplug_export_table_get(wasmtime_context_t* store, const wasmtime_instance_t* instance,
                               const wasmplug_export_table* table, wasmtime_extern_t* items, bool* found);
}

namespace wasmplug::detail {

using ExportTableHandle = Handle<wasmplug_export_table, wasmplug_export_table_delete>;

/// A table made once by whichever thread gets there first, then shared
/// read-only; freed with its owner.
struct SharedExportTable {
  std::atomic<wasmplug_export_table*> table{nullptr};
  SharedExportTable() = default;
  SharedExportTable(const SharedExportTable&) = delete;
  SharedExportTable& operator=(const SharedExportTable&) = delete;
  ~SharedExportTable() { wasmplug_export_table_delete(table.load(std::memory_order_acquire)); }
};

}  // namespace wasmplug::detail
