;; No wp_alloc and no ABI marker.
(module
  (memory (export "memory") 1)
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param i32 i32) (result i64) (i64.const 0))
)
