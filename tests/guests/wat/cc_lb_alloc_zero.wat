;; cc-lb guest whose allocator fails.
(module
  (memory (export "memory") 1)
  (func (export "cc_lb_alloc") (param i32 i32) (result i32) (i32.const 0))
  (func (export "cc_lb_free") (param i32 i32 i32))
  (func (export "cc_lb_shape") (param i32 i32) (result i64) (i64.const 0))
)
