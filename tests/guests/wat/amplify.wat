;; Native ABI v1: transform answers every input with 256 KiB of 'a' (the
;; first byte is the input's first byte), an amplifier for the CLI's bound on
;; outputs held per batch.
(module
  (memory (export "memory") 8)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param $len i32) (param $align i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 65536)) (then (return (i32.const 0))))
    (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (memory.fill (i32.const 131072) (i32.const 97) (i32.const 262144))
    (if (i32.gt_u (local.get $len) (i32.const 0))
      (then (i32.store8 (i32.const 131072) (i32.load8_u (local.get $ptr)))))
    (i64.or (i64.shl (i64.const 131072) (i64.const 32)) (i64.const 262144)))
)
