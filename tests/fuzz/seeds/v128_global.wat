;; A v128 in an exported global: the Wasmtime C API aborted when reflecting it (issue 8); must be Rejected.
(module (global (export "g") v128 (v128.const i32x4 0 0 0 0)))
