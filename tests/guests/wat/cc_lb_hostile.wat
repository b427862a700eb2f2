;; cc-lb guest breaking the output rules, by first input byte:
;;   N filter returns (0, 0)    P returns (ptr, 0)    O output past memory
;;   U unreachable              L loop forever        anything else: echo
;; observe returns its input instead of (0, 0) for 'E'.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cc_lb_alloc") (param $len i32) (param i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $len)) (i32.const 15)) (i32.const -16)))
    (local.get $p))
  (func (export "cc_lb_free") (param i32 i32 i32))
  (func $answer (param $ptr i32) (param $len i32) (result i64)
    (local $c i32)
    (local.set $c (i32.load8_u (local.get $ptr)))
    (if (i32.eq (local.get $c) (i32.const 78)) (then (return (i64.const 0))))
    (if (i32.eq (local.get $c) (i32.const 80)) (then (return (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)))))
    (if (i32.eq (local.get $c) (i32.const 79)) (then (return (i64.const 0x0000FFF000000100))))
    (if (i32.eq (local.get $c) (i32.const 85)) (then (unreachable)))
    (if (i32.eq (local.get $c) (i32.const 76)) (then (loop $forever (br $forever))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "cc_lb_filter") (param i32 i32) (result i64) (call $answer (local.get 0) (local.get 1)))
  (func (export "cc_lb_shape") (param i32 i32) (result i64) (call $answer (local.get 0) (local.get 1)))
  (func (export "cc_lb_observe") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 69))
      (then (return (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))))
    (i64.const 0))
)
