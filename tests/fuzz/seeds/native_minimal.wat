;; The smallest module the native ABI admits: marker, allocator, one hook.
(module
  (memory (export "memory") 1)
  (func (export "wasmplug_abi_version_1"))
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_filter") (param i32 i32) (result i32) (i32.const 1)))
