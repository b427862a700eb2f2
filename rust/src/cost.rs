//! What compiling a module will cost, read before Wasmtime compiles it.
//!
//! Wasmtime has no time or memory bound on compilation (1M tiny functions:
//! 163 s and 5.5 GB), so admission bounds the inputs that drive it: defined
//! functions, body sizes, declared locals and block nesting. Reading them
//! needs a full operator decoder (nesting), hence wasmparser — the one
//! Wasmtime itself uses. This is a single linear pass with no allocation
//! proportional to the input beyond the parser's own frame stack.

use wasmparser::{Operator, Parser, Payload, TypeRef};

/// Filled by `wasmplug_code_cost`. Function indices count imports first, as
/// in the module's function index space.
#[repr(C)]
#[derive(Default)]
pub struct WasmplugCodeCost {
    pub functions: u64,
    pub code_bytes: u64,
    pub max_body_bytes: u64,
    pub max_body_function: u64,
    pub max_locals: u64,
    pub max_locals_function: u64,
    pub total_locals: u64,
    pub max_nesting: u64,
    pub max_nesting_function: u64,
    pub globals: u64,
}

fn scan(bytes: &[u8], out: &mut WasmplugCodeCost) -> wasmparser::Result<()> {
    let mut imported_functions: u64 = 0;
    let mut body_index: u64 = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        imported_functions += 1;
                    }
                }
            }
            Payload::GlobalSection(reader) => out.globals += u64::from(reader.count()),
            Payload::CodeSectionEntry(body) => {
                let index = imported_functions + body_index;
                body_index += 1;
                out.functions += 1;
                let size = body.range().len() as u64;
                out.code_bytes += size;
                if size > out.max_body_bytes {
                    out.max_body_bytes = size;
                    out.max_body_function = index;
                }
                let mut locals: u64 = 0;
                for group in body.get_locals_reader()? {
                    locals = locals.saturating_add(u64::from(group?.0));
                }
                out.total_locals = out.total_locals.saturating_add(locals);
                if locals > out.max_locals {
                    out.max_locals = locals;
                    out.max_locals_function = index;
                }
                // The body is one implicit block; every block, loop, if and
                // try opens one more, `end` closes one.
                let mut depth: u64 = 1;
                let mut deepest: u64 = 1;
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    match ops.read()? {
                        Operator::Block { .. }
                        | Operator::Loop { .. }
                        | Operator::If { .. }
                        | Operator::Try { .. }
                        | Operator::TryTable { .. } => {
                            depth += 1;
                            deepest = deepest.max(depth);
                        }
                        Operator::End => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                if deepest > out.max_nesting {
                    out.max_nesting = deepest;
                    out.max_nesting_function = index;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads the compile-cost figures of the module in `bytes[..len]` into `out`.
/// Returns false when the module cannot be parsed (the caller then lets the
/// engine name the error); `out` then holds what was read before the error.
///
/// # Safety
/// `bytes` must point to `len` readable bytes and `out` to a writable
/// `WasmplugCodeCost`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_code_cost(
    bytes: *const u8,
    len: usize,
    out: *mut WasmplugCodeCost,
) -> bool {
    if out.is_null() || (bytes.is_null() && len != 0) {
        return false;
    }
    let input: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `len` readable bytes at `bytes`.
        unsafe { std::slice::from_raw_parts(bytes, len) }
    };
    // SAFETY: the caller guarantees `out` is valid for writes.
    let out = unsafe { &mut *out };
    *out = WasmplugCodeCost::default();
    scan(input, out).is_ok()
}
