//! Export lookup by precomputed index for core-module instances (see
//! src/engine/export_table.h). The C API offers export_nth, which walks and
//! materialises every export before the one asked for, and export_get, which
//! hashes the name; a fresh call resolves the ABI's exports of every new
//! instance, so both showed up per call. Wasmtime's own `ModuleExport`
//! resolves one with neither.
use std::mem::MaybeUninit;

use wasmtime::{Instance, ModuleExport};
use wasmtime_c_api::{WasmtimeStoreContextMut, wasmtime_extern_t};

/// The exports of one module, by position in the caller's name list.
///
/// Made by a plugin's first instance on whatever thread made it, then read by
/// every instantiation on every thread: the table and its entries sit on
/// cache lines of their own (64-byte aligned), so that the maker's later
/// heap traffic next to them does not bounce the lines other threads read.
#[repr(align(64))]
pub struct WpExportTable {
    exports: Vec<Line<Option<ModuleExport>>>,
}

#[repr(align(64))]
struct Line<T>(T);

/// A table for `n` names (`names[i]`, `lens[i]` bytes each) of the module
/// `instance` was instantiated from. Absent (or non-UTF-8) names stay absent.
/// Never null; free with wasmplug_export_table_delete.
///
/// # Safety
/// `store` owns `instance`; `names` and `lens` hold `n` valid entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_export_table_new(
    store: WasmtimeStoreContextMut<'_>,
    instance: &Instance,
    names: *const *const u8,
    lens: *const usize,
    n: usize,
) -> *mut WpExportTable {
    let module = instance.module(&store);
    let exports = (0..n)
        .map(|i| {
            // SAFETY: the caller passes n valid (pointer, length) pairs.
            let bytes = unsafe { std::slice::from_raw_parts(*names.add(i), *lens.add(i)) };
            Line(std::str::from_utf8(bytes).ok().and_then(|name| module.get_export_index(name)))
        })
        .collect();
    Box::into_raw(Box::new(WpExportTable { exports }))
}

/// # Safety
/// `table` came from wasmplug_export_table_new (or is null) and is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_export_table_delete(table: *mut WpExportTable) {
    if !table.is_null() {
        // SAFETY: made by Box::into_raw in wasmplug_export_table_new.
        drop(unsafe { Box::from_raw(table) });
    }
}

/// Fills `items[i]` and `found[i]` for each of the table's exports in
/// `instance`. An instance of another module finds nothing (Wasmtime checks
/// the module id).
///
/// # Safety
/// `store` owns `instance`; `items` and `found` have room for the table's
/// length (the `n` it was made with).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_export_table_get(
    mut store: WasmtimeStoreContextMut<'_>,
    instance: &Instance,
    table: &WpExportTable,
    items: *mut MaybeUninit<wasmtime_extern_t>,
    found: *mut bool,
) {
    for (i, export) in table.exports.iter().enumerate() {
        let item = export.0.as_ref().and_then(|e| instance.get_module_export(&mut store, e));
        // SAFETY: the caller gives room for every entry of the table.
        unsafe {
            *found.add(i) = item.is_some();
            if let Some(item) = item {
                (*items.add(i)).write(item.into());
            }
        }
    }
}
