//! Re-export of the Wasmtime C API so that CMake can link one static library.
pub use wasmtime_c_api::*;
