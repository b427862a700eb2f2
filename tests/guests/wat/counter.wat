;; Counts calls in a global and returns the count as 4 little-endian bytes.
;; In fresh isolation every call must see 1.
(module
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param i32 i32) (result i64)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 64) (global.get $count))
    (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 4)))
)
