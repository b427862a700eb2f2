;; Passes env.shout a range outside its memory on transform when the input is
;; "oob" (3 bytes), and its own input otherwise: the host's bounds-checked
;; accessor must fail the call with AbiViolation and never touch host memory.
(module
  (import "env" "shout" (func $shout (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eq (local.get $len) (i32.const 3))
      (then (drop (call $shout (i32.const 65000) (i32.const 4096))))
      (else (drop (call $shout (local.get $ptr) (local.get $len)))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
)
