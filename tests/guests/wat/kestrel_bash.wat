;; The seed's example rule "detect-bash": field 1 (process path) ends with
;; "/bash" and field 2 (pid) > 1000 → alert 7 and match.
(module
  (import "env" "event_get_str" (func $get_str (param i32 i32) (result i32)))
  (import "env" "event_get_i64" (func $get_i64 (param i32) (result i64)))
  (import "env" "string_ends_with" (func $ends (param i32 i32 i32 i32) (result i32)))
  (import "env" "alert_emit" (func $alert (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "/bash")
  (func (export "pred_eval") (result i32)
    (local $len i32)
    (local.set $len (call $get_str (i32.const 1) (i32.const 1024)))
    (if (i32.and (call $ends (i32.const 1024) (local.get $len) (i32.const 100) (i32.const 5))
                 (i64.gt_s (call $get_i64 (i32.const 2)) (i64.const 1000)))
      (then (call $alert (i32.const 7)) (return (i32.const 1))))
    (i32.const 0))
)
