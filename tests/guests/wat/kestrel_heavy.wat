;; Kestrel predicate doing heavy host work, for the host-function budget tests.
;; Event fields (i64): 100 mode, 101 repeat count, 102 pattern length,
;; 103 first pattern number. Memory: 240 pages; [1 MiB, 9 MiB) holds the
;; 8 MiB text of 'a's, the pattern/needle lives at 10 MiB.
;;   1: string_contains(text, 'a' x 65535 + 'b') repeated
;;   2: glob_match("*a" x 499 + "*b*", text) repeated
;;   3: regex_match("(a|aa)*b", text) once
;;   4: regex_match of distinct patterns: 8 digits (the pattern number) then
;;      'a' up to the pattern length, on the text "\0"; numbers start at field 103
;;   5: like 4 with glob_match
;;   6: string_contains(string field 1, string field 6)
;;   7: alert_emit(1) repeat-count times, then match
(module
  (import "env" "event_get_i64" (func $i64 (param i32) (result i64)))
  (import "env" "event_get_str" (func $str (param i32 i32) (result i32)))
  (import "env" "string_contains" (func $contains (param i32 i32 i32 i32) (result i32)))
  (import "env" "regex_match" (func $regex (param i32 i32 i32 i32) (result i32)))
  (import "env" "glob_match" (func $glob (param i32 i32 i32 i32) (result i32)))
  (import "env" "alert_emit" (func $alert (param i32)))
  (memory (export "memory") 240)
  (data (i32.const 100) "(a|aa)*b")  ;; 8 bytes
  (global $text i32 (i32.const 1048576))
  (global $text_len i32 (i32.const 8388608))
  (global $pat i32 (i32.const 10485760))
  ;; Writes `value` as 8 decimal digits at `ptr`.
  (func $digits (param $ptr i32) (param $value i32)
    (local $k i32)
    (local.set $k (i32.const 7))
    (loop $next
      (i32.store8 (i32.add (local.get $ptr) (local.get $k))
                  (i32.add (i32.const 48) (i32.rem_u (local.get $value) (i32.const 10))))
      (local.set $value (i32.div_u (local.get $value) (i32.const 10)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $next (i32.ge_s (local.get $k) (i32.const 0)))))
  (func (export "pred_eval") (result i32)
    (local $mode i32) (local $count i32) (local $len i32) (local $first i32) (local $i i32) (local $r i32)
    (local.set $mode (i32.wrap_i64 (call $i64 (i32.const 100))))
    (local.set $count (i32.wrap_i64 (call $i64 (i32.const 101))))
    (local.set $len (i32.wrap_i64 (call $i64 (i32.const 102))))
    (local.set $first (i32.wrap_i64 (call $i64 (i32.const 103))))
    (if (i32.eq (local.get $mode) (i32.const 7))
      (then
        (loop $emit
          (if (i32.gt_s (local.get $count) (i32.const 0))
            (then
              (call $alert (i32.const 1))
              (local.set $count (i32.sub (local.get $count) (i32.const 1)))
              (br $emit))))
        (return (i32.const 1))))
    (if (i32.eq (local.get $mode) (i32.const 6))
      (then (return (call $contains (global.get $text) (call $str (i32.const 1) (global.get $text))
                                    (global.get $pat) (call $str (i32.const 6) (global.get $pat))))))
    (if (i32.le_u (local.get $mode) (i32.const 3))
      (then (memory.fill (global.get $text) (i32.const 97) (global.get $text_len))))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (memory.fill (global.get $pat) (i32.const 97) (i32.const 65535))
        (i32.store8 (i32.add (global.get $pat) (i32.const 65535)) (i32.const 98))
        (loop $again
          (local.set $r (call $contains (global.get $text) (global.get $text_len) (global.get $pat) (i32.const 65536)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (local.get $count))))
        (return (local.get $r))))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (loop $build  ;; "*a" x 499
          (i32.store8 (i32.add (global.get $pat) (i32.shl (local.get $i) (i32.const 1))) (i32.const 42))
          (i32.store8 (i32.add (global.get $pat) (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1))) (i32.const 97))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $build (i32.lt_u (local.get $i) (i32.const 499))))
        (i32.store8 (i32.add (global.get $pat) (i32.const 998)) (i32.const 42))
        (i32.store8 (i32.add (global.get $pat) (i32.const 999)) (i32.const 98))
        (i32.store8 (i32.add (global.get $pat) (i32.const 1000)) (i32.const 42))
        (local.set $i (i32.const 0))
        (loop $again
          (local.set $r (call $glob (global.get $pat) (i32.const 1001) (global.get $text) (global.get $text_len)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (local.get $count))))
        (return (local.get $r))))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then (return (call $regex (i32.const 100) (i32.const 8) (global.get $text) (global.get $text_len)))))
    (if (i32.or (i32.eq (local.get $mode) (i32.const 4)) (i32.eq (local.get $mode) (i32.const 5)))
      (then
        (memory.fill (global.get $pat) (i32.const 97) (local.get $len))
        (loop $again
          (call $digits (global.get $pat) (i32.add (local.get $first) (local.get $i)))
          (if (i32.eq (local.get $mode) (i32.const 4))
            (then (drop (call $regex (global.get $pat) (local.get $len) (global.get $text) (i32.const 1))))
            (else (drop (call $glob (global.get $pat) (local.get $len) (global.get $text) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (local.get $count))))
        (return (i32.const 0))))
    (i32.const 0))
)
