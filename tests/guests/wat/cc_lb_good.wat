;; A cc-lb plugin written to the seed contract (cc_lb_alloc/free + hooks,
;; (ptr << 32) | len results). filter answers a 1-byte verdict, shape echoes
;; its input reversed, observe returns (0, 0).
(module
  (memory (export "memory") 1)
  (data (i32.const 32) "\01")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cc_lb_alloc") (param $len i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.xor (i32.sub (local.get $align) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "cc_lb_free") (param i32 i32 i32))
  (func (export "cc_lb_filter") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 32) (i64.const 32)) (i64.const 1)))
  (func (export "cc_lb_shape") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $out i32)
    (local.set $out (i32.const 8192))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $out) (local.get $i))
                    (i32.load8_u (i32.sub (i32.add (local.get $ptr) (local.get $len))
                                          (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "cc_lb_observe") (param i32 i32) (result i64) (i64.const 0))
)
