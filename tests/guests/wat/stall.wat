;; A native ABI v1 guest whose thread is "away" across its deadline
;; (tests/unit/host_api_test.cpp): env.stall(ms) is a host function that
;; sleeps, standing in for a thread descheduled by a loaded host.
;; transform: stall(60), then a little wasm (a call: an epoch check), then
;;   echo the input. It needs microseconds of its own.
;; observe: stall(60), then loop forever (the deadline must still stop it).
(module
  (import "env" "stall" (func $stall (param i32)))
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param $len i32) (param $align i32) (result i32)
    (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func $work (param $x i32) (result i32)
    (i32.add (local.get $x) (i32.const 1)))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (call $stall (i32.const 60))
    (drop (call $work (local.get $len)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))
  (func (export "wp_observe") (param $ptr i32) (param $len i32)
    (call $stall (i32.const 60))
    (loop $forever
      (drop (call $work (local.get $len)))
      (br $forever)))
)
