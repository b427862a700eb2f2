;; Imports a function no profile provides.
(module
  (import "env" "system" (func $system (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_transform") (param i32 i32) (result i64) (drop (call $system (i32.const 0))) (i64.const 0))
)
