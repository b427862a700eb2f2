;; A native ABI v1 guest of embedder host functions (tests/unit/host_api_test.cpp):
;;   env.shout(ptr, len) -> i32   the host upper-cases [ptr, ptr+len) in place
;;   env.scale(i64, f64) -> f64   the host returns x * f
;; transform: shout on the input, then echo it (the host's edit is the output).
;; filter: keeps the input when scale(3, 0.5) == 1.5 and shout returned the
;;   input's length (values cross in both directions).
;; observe: calls shout on the input forever (the deadline must still fire).
(module
  (import "env" "shout" (func $shout (param i32 i32) (result i32)))
  (import "env" "scale" (func $scale (param i64 f64) (result f64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param $len i32) (param $align i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.xor (i32.sub (local.get $align) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.sub (i32.add (i32.shr_u (global.get $heap) (i32.const 16)) (i32.const 1))
                                          (memory.size)))
                    (i32.const -1))
          (then (return (i32.const 0))))))
    (local.get $p))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (drop (call $shout (local.get $ptr) (local.get $len)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
  (func (export "wp_filter") (param $ptr i32) (param $len i32) (result i32)
    (i32.and
      (f64.eq (call $scale (i64.const 3) (f64.const 0.5)) (f64.const 1.5))
      (i32.eq (call $shout (local.get $ptr) (local.get $len)) (local.get $len))))
  (func (export "wp_observe") (param $ptr i32) (param $len i32)
    (loop $forever
      (drop (call $shout (local.get $ptr) (local.get $len)))
      (br $forever)))
)
