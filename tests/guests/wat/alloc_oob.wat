;; wp_alloc returns a pointer near the end of memory: the input does not fit.
(module
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 65520))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param i32 i32) (result i64) (i64.const 0))
)
