;; Imports env.shout with a type other than the registered (i32, i32) -> i32:
;; admission must reject it, naming the import and both types.
(module
  (import "env" "shout" (func $shout (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_observe") (param $ptr i32) (param $len i32)
    (drop (call $shout (local.get $ptr))))
)
