//! The torvyn profile's host: WIT components of torvyn:streaming@0.1.0,
//! called through typed `bindgen!` bindings behind a narrow C interface
//! (ffi.rs; src/component/torvyn_ffi.h is its C side).

mod bindings;
mod ffi;
mod host;
mod wasi;

pub use ffi::*;
