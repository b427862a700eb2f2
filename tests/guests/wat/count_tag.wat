;; A stateful transform whose output shows which instance served a record:
;; it counts its calls in a global and answers the input followed by '#' and
;; the count in decimal ("abc" -> "abc#1", then "abc#2" ...). An input
;; starting with 'U' traps (after counting). wp_shutdown logs "shutdown".
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "shutdown")
  (global $count (mut i32) (i32.const 0))
  (func (export "wasmplug_abi_version_1"))
  ;; One call at a time, so one input buffer is enough (records < 60 KiB).
  (func (export "wp_alloc") (param i32 i32) (result i32) (i32.const 1024))
  (func (export "wp_free") (param i32 i32 i32))
  (func (export "wp_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "wp_shutdown") (result i32)
    (call $log (i32.const 2) (i32.const 16) (i32.const 8))
    (i32.const 0))
  (func (export "wp_transform") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32) (local $n i32) (local $digits i32) (local $i i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (if (i32.and (i32.ne (local.get $len) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 85)))
      (then (unreachable)))
    ;; The answer follows the input in place: input, '#', digits.
    (local.set $out (i32.add (local.get $ptr) (local.get $len)))
    (i32.store8 (local.get $out) (i32.const 35))
    ;; Digits least significant first at 32.., then copied in reverse.
    (local.set $n (global.get $count))
    (loop $digit
      (i32.store8 (i32.add (i32.const 32) (local.get $digits))
                  (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (i32.ne (local.get $n) (i32.const 0))))
    (loop $copy
      (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 1)) (local.get $i))
                  (i32.load8_u (i32.sub (i32.add (i32.const 31) (local.get $digits)) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $copy (i32.lt_u (local.get $i) (local.get $digits))))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (i32.add (i32.add (local.get $len) (i32.const 1)) (local.get $digits)))))
)
