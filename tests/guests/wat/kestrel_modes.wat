;; Exercises every Kestrel host function; event field 100 (i64) picks the case.
;; Fields used: 1 string, 3 u64, 4 f64, 5 bool, 6 anything.
(module
  (import "env" "event_get_i64" (func $i64 (param i32) (result i64)))
  (import "env" "event_get_u64" (func $u64 (param i32) (result i64)))
  (import "env" "event_get_f64" (func $f64 (param i32) (result f64)))
  (import "env" "event_get_bool" (func $bool (param i32) (result i32)))
  (import "env" "event_get_str" (func $str (param i32 i32) (result i32)))
  (import "env" "event_has_field" (func $has (param i32) (result i32)))
  (import "env" "string_contains" (func $contains (param i32 i32 i32 i32) (result i32)))
  (import "env" "string_starts_with" (func $starts (param i32 i32 i32 i32) (result i32)))
  (import "env" "regex_match" (func $regex (param i32 i32 i32 i32) (result i32)))
  (import "env" "glob_match" (func $glob (param i32 i32 i32 i32) (result i32)))
  (import "env" "alert_emit" (func $alert (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "/usr/bin/[a-z]*sh")   ;; 17 bytes
  (data (i32.const 300) "/usr/*/b?sh")         ;; 11
  (data (i32.const 400) "bin")                 ;; 3
  (data (i32.const 500) "/usr")                ;; 4
  (data (i32.const 600) "(")                   ;; 1: an invalid regex
  (data (i32.const 700) "/usr/[b")             ;; 7: an unterminated glob class
  (func $path_len (result i32) (call $str (i32.const 1) (i32.const 1024)))
  (func (export "pred_eval") (result i32)
    (local $mode i64)
    (local.set $mode (call $i64 (i32.const 100)))
    (if (i64.eq (local.get $mode) (i64.const 1)) (then (return (i64.eq (call $u64 (i32.const 3)) (i64.const -1)))))
    (if (i64.eq (local.get $mode) (i64.const 2)) (then (return (f64.gt (call $f64 (i32.const 4)) (f64.const 2.5)))))
    (if (i64.eq (local.get $mode) (i64.const 3)) (then (return (call $bool (i32.const 5)))))
    (if (i64.eq (local.get $mode) (i64.const 4)) (then (return (call $has (i32.const 6)))))
    (if (i64.eq (local.get $mode) (i64.const 5))
      (then (return (call $regex (i32.const 200) (i32.const 17) (i32.const 1024) (call $path_len)))))
    (if (i64.eq (local.get $mode) (i64.const 6))
      (then (return (call $glob (i32.const 300) (i32.const 11) (i32.const 1024) (call $path_len)))))
    (if (i64.eq (local.get $mode) (i64.const 7))
      (then (return (call $contains (i32.const 1024) (call $path_len) (i32.const 400) (i32.const 3)))))
    (if (i64.eq (local.get $mode) (i64.const 8))
      (then (return (call $starts (i32.const 1024) (call $path_len) (i32.const 500) (i32.const 4)))))
    (if (i64.eq (local.get $mode) (i64.const 9))
      (then (return (call $regex (i32.const 600) (i32.const 1) (i32.const 1024) (call $path_len)))))
    (if (i64.eq (local.get $mode) (i64.const 10))
      (then (return (call $str (i32.const 1) (i32.const 65530)))))
    (if (i64.eq (local.get $mode) (i64.const 11)) (then (return (i32.const 7))))
    (if (i64.eq (local.get $mode) (i64.const 12)) (then (loop $forever (br $forever))))
    (if (i64.eq (local.get $mode) (i64.const 13))
      (then (call $alert (i32.const 1)) (call $alert (i32.const 2)) (call $alert (i32.const 3)) (return (i32.const 0))))
    ;; 14: a u64 field read as i64 is the wrong type, so it reads 0
    (if (i64.eq (local.get $mode) (i64.const 14)) (then (return (i64.eqz (call $i64 (i32.const 3))))))
    (if (i64.eq (local.get $mode) (i64.const 15))
      (then (return (call $glob (i32.const 700) (i32.const 7) (i32.const 1024) (call $path_len)))))
    ;; 16: a pattern range outside memory
    (if (i64.eq (local.get $mode) (i64.const 16))
      (then (return (call $regex (i32.const 65530) (i32.const 100) (i32.const 0) (i32.const 0)))))
    (i32.const 0))
)
