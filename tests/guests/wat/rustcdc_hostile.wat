;; rustcdc guest breaking the contract, by the second input byte (the input is
;; a JSON string like "X..."):
;;   F transform returns -7            O output range past memory
;;   M output_len returns -1           N metric name without NUL
;;   L loop forever                    anything else: echo the input
(module
  (import "env" "get_metric" (func $get (param i32) (result i64)))
  (memory (export "memory") 1)
  (global $len (mut i32) (i32.const 0))
  (data (i32.const 65523) "no-terminator")  ;; runs to the end of memory
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "output_len") (result i32) (global.get $len))
  (func (export "transform") (param $ptr i32) (param $len i32) (result i32)
    (local $c i32)
    (global.set $len (local.get $len))
    (local.set $c (i32.load8_u (i32.add (local.get $ptr) (i32.const 1))))
    (if (i32.eq (local.get $c) (i32.const 70)) (then (return (i32.const -7))))
    (if (i32.eq (local.get $c) (i32.const 79)) (then (global.set $len (i32.const 4096)) (return (i32.const 65000))))
    (if (i32.eq (local.get $c) (i32.const 77)) (then (global.set $len (i32.const -1))))
    (if (i32.eq (local.get $c) (i32.const 78)) (then (drop (call $get (i32.const 65523)))))
    (if (i32.eq (local.get $c) (i32.const 76)) (then (loop $forever (br $forever))))
    (local.get $ptr))
)
