;; Hostile text. observe: the input is two little-endian u32s, COUNT and
;; LEN; the guest logs COUNT lines of LEN bytes ('a'..., from address 0).
;; transform: fails the call with its input as the message (any bytes).
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (import "wasmplug" "fail" (func $fail (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_observe") (param $ptr i32) (param $len i32)
    (local $count i32)
    (local $line i32)
    (local.set $count (i32.load (local.get $ptr)))
    (local.set $line (i32.load offset=4 (local.get $ptr)))
    (memory.fill (i32.const 0) (i32.const 97) (i32.const 65536))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $count)))
        (call $log (i32.const 2) (i32.const 0) (local.get $line))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $more))))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (call $fail (local.get $ptr) (local.get $len))
    (i64.const 0))
)
