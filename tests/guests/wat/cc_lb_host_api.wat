;; A cc-lb plugin (seed contract) that imports the embedder's env.shout:
;; embedder host functions are available to every profile, under the same
;; grants. cc_lb_shape upper-cases its input through the host and returns it.
(module
  (import "env" "shout" (func $shout (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "cc_lb_alloc") (param $len i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.xor (i32.sub (local.get $align) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "cc_lb_free") (param i32 i32 i32))
  (func (export "cc_lb_shape") (param $ptr i32) (param $len i32) (result i64)
    (drop (call $shout (local.get $ptr) (local.get $len)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
)
