;; A guest whose wp_shutdown never returns (it loops until the deadline ends
;; it). transform echoes its input; an input starting with 'S' first spins
;; for a while (so that concurrent calls each hold an instance).
(module
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32)
    (if (i32.and (i32.ne (local.get $len) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 83)))
      (then
        (local.set $i (i32.const 20000000))
        (loop $spin
          (local.set $i (i32.sub (local.get $i) (i32.const 1)))
          (br_if $spin (i32.ne (local.get $i) (i32.const 0))))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
  (func (export "wp_shutdown") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
)
