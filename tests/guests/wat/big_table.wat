;; An unexported table of 100000 elements (limit: 10000).
(module
  (memory (export "memory") 1)
  (table 100000 funcref)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_observe") (param i32 i32))
)
