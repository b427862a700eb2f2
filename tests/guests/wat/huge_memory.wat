;; Declares 1000 pages (62.5 MiB) up front (limit: 256 pages).
(module
  (memory (export "memory") 1000)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_observe") (param i32 i32))
)
