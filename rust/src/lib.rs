//! The Wasmtime C API, re-exported so that CMake links one static library,
//! plus the little of our own that needs a real WebAssembly parser.
pub use wasmtime_c_api::*;

mod cost;
pub use cost::*;

mod exports;
pub use exports::*;

mod torvyn;
pub use torvyn::*;
