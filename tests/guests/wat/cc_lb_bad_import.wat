;; cc-lb guest importing a host function (the cc-lb host provides none) and
;; with a mistyped filter hook.
(module
  (import "env" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "cc_lb_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "cc_lb_free") (param i32 i32 i32))
  (func (export "cc_lb_filter") (param i32 i32) (result i32) (i32.const 0))
)
