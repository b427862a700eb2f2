;; rustcdc guest creating metric names, by the second input byte (the input is
;; a JSON string like "X..."): R records 20,000 new names ("metric.number.",
;; 8 digits, NUL; 23 bytes each) per call, numbered on from the last call;
;; G reads 20,000 names that were never recorded; anything else: echo.
(module
  (import "env" "record_metric" (func $record (param i32 i64)))
  (import "env" "get_metric" (func $get (param i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 60000) "metric.number.")  ;; 14 bytes; digits at 60014, NUL at 60022
  (global $next (mut i32) (i32.const 0))
  (global $len (mut i32) (i32.const 0))
  (func $digits (param $ptr i32) (param $value i32)
    (local $k i32)
    (local.set $k (i32.const 7))
    (loop $next
      (i32.store8 (i32.add (local.get $ptr) (local.get $k))
                  (i32.add (i32.const 48) (i32.rem_u (local.get $value) (i32.const 10))))
      (local.set $value (i32.div_u (local.get $value) (i32.const 10)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $next (i32.ge_s (local.get $k) (i32.const 0)))))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "output_len") (result i32) (global.get $len))
  (func (export "transform") (param $ptr i32) (param $len i32) (result i32)
    (local $c i32) (local $i i32)
    (global.set $len (local.get $len))
    (local.set $c (i32.load8_u (i32.add (local.get $ptr) (i32.const 1))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 82)) (i32.eq (local.get $c) (i32.const 71)))
      (then
        (loop $again
          (if (i32.eq (local.get $c) (i32.const 82))
            (then
              (call $digits (i32.const 60014) (global.get $next))
              (global.set $next (i32.add (global.get $next) (i32.const 1)))
              (call $record (i32.const 60000) (i64.const 1)))
            (else
              (call $digits (i32.const 60014) (i32.add (i32.const 50000000) (local.get $i)))
              (drop (call $get (i32.const 60000)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (i32.const 20000))))))
    (local.get $ptr))
)
