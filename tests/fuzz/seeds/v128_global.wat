;; A v128 in an exported global: the Wasmtime C API aborts when reflecting it (issue 8).
(module (global (export "g") v128 (v128.const i32x4 0 0 0 0)))
