;; Imports the event-handle form of the field functions (event_handle, field_id).
(module
  (import "env" "event_get_i64" (func $i64 (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "pred_eval") (result i32) (i64.ne (call $i64 (i32.const 0) (i32.const 2)) (i64.const 0)))
)
