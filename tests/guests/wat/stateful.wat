;; Keeps a call counter in a global and returns it (4 bytes, little endian).
;; First input byte: U = count, then trap; L = loop forever; M = grow memory
;; by 4 pages, then answer. wp_shutdown logs "shutdown".
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "shutdown")
  (global $count (mut i32) (i32.const 0))
  (func (export "wasmplug_abi_version_1"))
  ;; One call at a time, so one input buffer is enough.
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "wp_shutdown") (result i32)
    (call $log (i32.const 2) (i32.const 16) (i32.const 8))
    (i32.const 0))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (local $c i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (if (i32.gt_u (local.get $len) (i32.const 0))
      (then
        (local.set $c (i32.load8_u (local.get $ptr)))
        (if (i32.eq (local.get $c) (i32.const 85)) (then (unreachable)))
        (if (i32.eq (local.get $c) (i32.const 76)) (then (loop $forever (br $forever))))
        (if (i32.eq (local.get $c) (i32.const 77)) (then (drop (memory.grow (i32.const 4)))))))
    (i32.store (i32.const 64) (global.get $count))
    (i64.or (i64.shl (i64.const 64) (i64.const 32)) (i64.const 4)))
)
