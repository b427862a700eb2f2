;; The leanest useful native guest for benchmarks: one input buffer at a fixed
;; address (one call at a time), transform answers in place, filter keeps.
(module
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param $len i32) (param i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $len) (i32.const 64512))
      (then (i32.const 0)) (else (i32.const 1024))))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "wp_filter") (param i32 i32) (result i32) (i32.const 1))
)
