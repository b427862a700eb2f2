#!/usr/bin/env python3
"""Writes the seed scripts of fuzz_guest into corpus/fuzz_guest/ (committed).

Byte 0 picks the profile (bits 0-1: native, cc-lb, rustcdc, kestrel) and the
hook ((byte / 4) % 3: filter, transform, observe); native with byte 0 >= 192
is the WASI guest; the rest is a script for
guest/script_guest.c. One seed per hook and per host function, plus the
misbehaviours each ABI must classify. Run: python3 make_guest_seeds.py
"""
import os
import struct

NATIVE, CC_LB, RUSTCDC, KESTREL = 0, 1, 2, 3
FILTER, TRANSFORM, OBSERVE = 0, 1, 2


def sel(profile, hook=FILTER):
    return bytes([profile + 4 * hook])


def u16(v): return struct.pack("<H", v & 0xFFFF)
def u32(v): return struct.pack("<I", v & 0xFFFFFFFF)
def u64(v): return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)

# <ptr> operands
def abs_(v): return b"\x00" + u32(v)
def scratch(off=0): return b"\x01" + u16(off)
def mem_end(back): return b"\x02" + u16(back)
def inp(off=0): return b"\x03" + u16(off)

# <len> operands
def ln(v):
    if v < 0xF0: return bytes([v])
    if v <= 0xFFFF: return b"\xf0" + u16(v)
    return b"\xf1" + u32(v)

def ret(v): return b"r" + u32(v)
def out_ptr(p): return b"p" + p
def out_len(n): return b"l" + ln(n)
def arm_alloc(p): return b"a" + p
def shutdown(mode, value=0): return b"s" + bytes([mode]) + u32(value)
def write(off, data): return b"w" + u16(off) + bytes([len(data)]) + data
def grow(pages): return b"g" + u32(pages)
def host(fn, *args): return b"h" + bytes([fn]) + b"".join(args)
TRAP, LOOP, RECURSE = b"u", b"x", b"k"
def load(p): return b"m" + p
def store(p, v): return b"S" + p + bytes([v])

seeds = {}

# native: wasmplug.log (fn 0: level, ptr, len), wasmplug.fail (fn 1: ptr, len)
for hook, name in ((FILTER, "filter"), (TRANSFORM, "transform"), (OBSERVE, "observe")):
    seeds[f"native_{name}_good"] = sel(NATIVE, hook) + b"hello"
    seeds[f"native_{name}_log"] = sel(NATIVE, hook) + write(0, b"a log line") + host(0, b"\x02", scratch(), ln(10))
    seeds[f"native_{name}_fail"] = sel(NATIVE, hook) + write(0, b"bad record") + host(1, scratch(), ln(10))
    seeds[f"native_{name}_alloc_zero"] = sel(NATIVE, hook) + arm_alloc(abs_(0))
    seeds[f"native_{name}_shutdown_trap"] = sel(NATIVE, hook) + shutdown(1)
seeds["native_filter_verdict_7"] = sel(NATIVE) + ret(7)
seeds["native_transform_out_oob"] = sel(NATIVE, TRANSFORM) + out_ptr(abs_(0xFFFF0000)) + out_len(16)
seeds["native_transform_out_wraps"] = sel(NATIVE, TRANSFORM) + out_ptr(mem_end(16)) + out_len(0xFFFFFFF0)
seeds["native_transform_null_with_len"] = sel(NATIVE, TRANSFORM) + out_ptr(abs_(0)) + out_len(5)
seeds["native_transform_over_output_limit"] = sel(NATIVE, TRANSFORM) + out_ptr(abs_(1024)) + out_len(0x20000)
seeds["native_transform_end_of_memory"] = sel(NATIVE, TRANSFORM) + out_ptr(mem_end(4)) + out_len(4)
seeds["native_alloc_misaligned"] = sel(NATIVE) + arm_alloc(scratch(1))
seeds["native_alloc_oob"] = sel(NATIVE) + arm_alloc(abs_(0xFFFFFFF0))
seeds["native_alloc_straddles_end"] = sel(NATIVE) + arm_alloc(mem_end(2))
seeds["native_log_bad_level"] = sel(NATIVE) + host(0, b"\x09", scratch(), ln(3))
seeds["native_log_oob"] = sel(NATIVE) + host(0, b"\x02", abs_(0xFFFFFF00), ln(1000))
seeds["native_log_huge"] = sel(NATIVE) + host(0, b"\x02", abs_(0), ln(0xFFFFFFFF))
seeds["native_fail_empty"] = sel(NATIVE) + host(1, scratch(), ln(0))
seeds["native_fail_long"] = sel(NATIVE) + host(1, abs_(0), ln(0x8000))
seeds["native_shutdown_loop"] = sel(NATIVE, TRANSFORM) + shutdown(2)
seeds["native_shutdown_status"] = sel(NATIVE) + shutdown(0, 3)
seeds["native_trap"] = sel(NATIVE) + TRAP
seeds["native_loop"] = sel(NATIVE) + LOOP
seeds["native_recurse"] = sel(NATIVE) + RECURSE
seeds["native_grow_then_keep"] = sel(NATIVE) + grow(100) + ret(1)
seeds["native_load_oob"] = sel(NATIVE) + load(abs_(0x7FFF0000))
seeds["native_store_self"] = sel(NATIVE, TRANSFORM) + store(inp(0), 0x41)

# cc-lb: no host functions; every hook returns (ptr << 32 | len)
for hook, name in ((FILTER, "filter"), (TRANSFORM, "shape"), (OBSERVE, "observe")):
    seeds[f"cc_lb_{name}_good"] = sel(CC_LB, hook) + b"hello"
    seeds[f"cc_lb_{name}_zero_zero"] = sel(CC_LB, hook) + out_ptr(abs_(0)) + out_len(0)
    seeds[f"cc_lb_{name}_ptr_no_len"] = sel(CC_LB, hook) + out_ptr(inp()) + out_len(0)
    seeds[f"cc_lb_{name}_oob"] = sel(CC_LB, hook) + out_ptr(abs_(0x00FFF000)) + out_len(0x100)
    seeds[f"cc_lb_{name}_alloc_null"] = sel(CC_LB, hook) + arm_alloc(abs_(0))
seeds["cc_lb_alloc_oob"] = sel(CC_LB, TRANSFORM) + arm_alloc(mem_end(1))
seeds["cc_lb_trap"] = sel(CC_LB, TRANSFORM) + TRAP
seeds["cc_lb_loop"] = sel(CC_LB) + LOOP

# rustcdc: env.log (fn 0), get_metric (fn 1: name ptr), record_metric (fn 2: name ptr, i64)
R = sel(RUSTCDC, TRANSFORM)
seeds["rustcdc_good"] = R + b"hello"
seeds["rustcdc_drop"] = R + ret(0xFFFFFFFF)
seeds["rustcdc_guest_error"] = R + ret(0xFFFFFFF9)
seeds["rustcdc_output_len_negative"] = R + out_len(0xFFFFFFFF)
seeds["rustcdc_output_oob"] = R + ret(65000) + out_len(4096)
seeds["rustcdc_output_not_json"] = R + write(0, b"{{{") + out_ptr(scratch()) + out_len(3)
seeds["rustcdc_output_empty"] = R + out_len(0)
seeds["rustcdc_log"] = R + write(0, b"transform log") + host(0, b"\x02", scratch(), ln(13))
seeds["rustcdc_log_bad_level"] = R + host(0, b"\x07", scratch(), ln(1))
seeds["rustcdc_get_metric"] = R + write(0, b"events.seen\x00") + host(1, scratch())
seeds["rustcdc_record_metric"] = R + write(0, b"events.seen\x00") + host(2, scratch(), u64(1)) + host(1, scratch())
seeds["rustcdc_record_metric_wraps"] = R + write(0, b"m\x00") + host(2, scratch(), u64(0x7FFFFFFFFFFFFFFF)) + host(2, scratch(), u64(1))
seeds["rustcdc_metric_no_nul"] = R + store(mem_end(2), 0x6E) + store(mem_end(1), 0x6F) + host(1, mem_end(2))
seeds["rustcdc_metric_empty_name"] = R + host(2, scratch(100), u64(1))
seeds["rustcdc_metric_oob"] = R + host(1, abs_(0xFFFFFFFF))
seeds["rustcdc_alloc_zero"] = R + arm_alloc(abs_(0))
seeds["rustcdc_alloc_oob"] = R + arm_alloc(abs_(0xFFFFFFF0))
seeds["rustcdc_shutdown_fail"] = R + shutdown(0, 1)
seeds["rustcdc_shutdown_trap"] = R + shutdown(1)
seeds["rustcdc_trap"] = R + TRAP
seeds["rustcdc_recurse"] = R + RECURSE

# kestrel: event_get_i64 (0), _u64 (1), _f64 (2), _bool (3), _str (4: id, buf),
# has_field (5), string_contains (6), starts_with (7), ends_with (8),
# regex_match (9), glob_match (10) (each a, a_len, b, b_len), alert_emit (11: code)
K = sel(KESTREL)
seeds["kestrel_good"] = K + b"hello"
seeds["kestrel_no_match"] = K + ret(0)
seeds["kestrel_bad_verdict"] = K + ret(7)
seeds["kestrel_fields"] = K + host(0, b"\x02") + host(1, b"\x03") + host(2, b"\x04") + host(3, b"\x05") + host(5, b"\x63")
seeds["kestrel_fields_wrong_type"] = K + host(0, b"\x01") + host(2, b"\x06") + host(3, b"\x02")
seeds["kestrel_get_str"] = K + host(4, b"\x06", scratch())
seeds["kestrel_get_str_oob"] = K + host(4, b"\x06", mem_end(4))
seeds["kestrel_get_str_script_over_itself"] = K + host(4, b"\x01", inp(3))
seeds["kestrel_string_tests"] = (K + write(0, b"/usr/bin/bash") + host(6, scratch(), ln(13), scratch(9), ln(4))
                                 + host(7, scratch(), ln(13), scratch(), ln(4)) + host(8, scratch(), ln(13), scratch(11), ln(2)))
seeds["kestrel_string_oob"] = K + host(6, scratch(), ln(5), abs_(0xFFFFFFF0), ln(0x20))
seeds["kestrel_regex"] = K + write(0, b"^/usr/.*sh$") + write(64, b"/usr/bin/bash") + host(9, scratch(), ln(11), scratch(64), ln(13))
seeds["kestrel_regex_invalid"] = K + write(0, b"a(b") + host(9, scratch(), ln(3), scratch(), ln(3))
seeds["kestrel_glob"] = K + write(0, b"*/b?sh") + write(64, b"/usr/bin/bash") + host(10, scratch(), ln(6), scratch(64), ln(13))
seeds["kestrel_glob_stars"] = K + write(0, b"*a*a*a*a*a*a*b") + host(10, scratch(), ln(14), abs_(0), ln(0x8000))
seeds["kestrel_alert"] = K + host(11, u32(42)) + host(11, u32(0xFFFFFFFF))
seeds["kestrel_many_alerts"] = K + host(11, u32(1)) * 200
seeds["kestrel_trap"] = K + TRAP
seeds["kestrel_loop"] = K + LOOP

# native + WASI (byte 0 >= 192 with profile native: fuzz_guest_wasi). Host
# function 2 + n is WASI function n (script_guest.c, wasi_call).
def wsel(hook=FILTER): return bytes([192 + 4 * hook])
def wasi(n, *args): return host(2 + n, *args)
W = wsel(TRANSFORM)
iov = lambda p, n: u32(p) + u32(n)
seeds["wasi_fd_write_scratch"] = (W + write(0, b"hello\nworld") +
                                  write(64, iov(0, 0)) + wasi(0, b"\x01", scratch(64), ln(1), scratch(128)))
seeds["wasi_fd_write_iovec_oob"] = W + write(64, iov(0xFFFFFFF0, 64)) + wasi(0, b"\x01", scratch(64), ln(1), scratch(128))
seeds["wasi_fd_write_table_oob"] = W + wasi(0, b"\x02", abs_(0xFFFFFFFC), ln(1000), scratch(128))
seeds["wasi_fd_write_many_iovecs"] = W + wasi(0, b"\x01", abs_(0), ln(0xFFFF), scratch(128))
seeds["wasi_fd_write_bad_fd"] = W + wasi(0, b"\x05", scratch(64), ln(1), scratch(128))
seeds["wasi_fdstat"] = W + wasi(1, b"\x01", scratch()) + wasi(1, b"\x00", scratch()) + wasi(1, b"\x02", mem_end(8))
seeds["wasi_prestat"] = W + wasi(5, b"\x03", scratch()) + wasi(6, b"\x03", scratch(), ln(16))
seeds["wasi_clock"] = W + wasi(7, b"\x01", u64(0), scratch()) + wasi(8, b"\x00", scratch(8)) + wasi(7, b"\x02", u64(0), mem_end(4))
seeds["wasi_random"] = W + wasi(9, scratch(), ln(64)) + wasi(9, abs_(0), ln(0xFFFFFFF0))
seeds["wasi_args_environ"] = W + wasi(10, scratch(), scratch(4)) + wasi(11, scratch(), scratch()) + wasi(12, mem_end(2), scratch()) + wasi(13, scratch(), scratch())
seeds["wasi_misc"] = W + wasi(2, b"\x01", u32(4)) + wasi(3, b"\x01") + wasi(4, b"\x01", u64(0), b"\x00", scratch()) + wasi(14)
# poll_oneoff: one relative clock subscription of 1 ms, one fd_read.
sub_clock = u64(7) + b"\x00" + b"\x00" * 7 + u32(1) + b"\x00" * 4 + u64(1_000_000) + u64(0) + u16(0) + b"\x00" * 6
sub_fd = u64(8) + b"\x01" + b"\x00" * 7 + u32(0) + b"\x00" * 28
seeds["wasi_poll_clock"] = W + write(0, sub_clock) + wasi(15, scratch(), scratch(256), ln(1), scratch(512))
seeds["wasi_poll_fd"] = W + write(0, sub_clock) + write(48, sub_fd) + wasi(15, scratch(), scratch(256), ln(2), scratch(512))
seeds["wasi_poll_long_sleep"] = W + write(0, sub_clock[:24] + u64(10**10) + sub_clock[32:]) + wasi(15, scratch(), scratch(256), ln(1), scratch(512))
seeds["wasi_poll_oob"] = W + wasi(15, abs_(0xFFFFFF00), scratch(256), ln(100), scratch(512))
seeds["wasi_exit_0"] = wsel(OBSERVE) + wasi(16, u32(0))
seeds["wasi_exit_3"] = wsel(FILTER) + wasi(16, u32(3))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_guest")
os.makedirs(out, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
