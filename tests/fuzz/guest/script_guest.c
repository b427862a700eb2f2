/* The fuzz_guest plugin: one C source built once per ABI profile
 * (-DFUZZ_NATIVE, -DFUZZ_CC_LB, -DFUZZ_RUSTCDC, -DFUZZ_KESTREL). It does
 * whatever its "script" says, so the fuzzer drives the guest's side of the
 * ABI: the pointers and lengths the hooks and the allocator return, the
 * verdicts, the shutdown status, and host calls with arbitrary arguments.
 *
 * Where the script comes from:
 *   native, cc-lb  the hook's input bytes
 *   rustcdc        the input event, a JSON string of hex digits ("0a1b...")
 *   kestrel        event field 1 (a string), read with event_get_str
 *
 * FUZZ_WASI is the native guest that also imports wasmplug's WASI set
 * (loaded with LoadOptions::wasi): host function numbers 2.. call the WASI
 * functions with script-chosen fds, pointers, lengths, iovec and
 * subscription counts (iovecs and subscriptions can be laid out in the
 * scratch buffer with 'w').
 *
 * Script: a byte string of ops; an unknown byte is a no-op, reading past the
 * end gives zeros. Numbers are little-endian.
 *   r <u32>              hook result (filter / pred_eval verdict, rustcdc transform return)
 *   p <ptr>              output pointer (native / cc-lb transform, rustcdc transform return)
 *   l <len>              output length (native / cc-lb packed length, rustcdc output_len)
 *   a <ptr>              the allocator returns <ptr> on the next call with this call's input length
 *   s <u8 mode> <u32>    shutdown: 0 return the value, 1 trap, 2 loop forever
 *   w <u16 off> <u8 n> <n bytes>   copy bytes into the scratch buffer
 *   g <u32>              memory.grow by that many pages
 *   u                    trap (unreachable)
 *   x                    loop forever (the deadline ends it)
 *   k                    recurse without bound (wasm stack overflow)
 *   m <ptr>              load a byte from <ptr> (may trap out of bounds)
 *   S <ptr> <u8>         store a byte at <ptr>
 *   h <u8 fn> <args...>  call host function fn (mod the profile's count); args as its signature
 * <ptr>: <u8 mode> then mode&3 = 0: <u32> absolute, 1: scratch + <u16>,
 *        2: end of memory - <u16>, 3: input + <u16>
 * <len>: <u8 tag>: tag < 0xF0 is the length; 0xF0 <u16>; 0xF1 <u32>; 0xF2 <u8 d>: 2^32-1-d
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))
/* Helpers not every profile uses. */
#define MAYBE_UNUSED __attribute__((unused))

#if defined(FUZZ_WASI)
#define FUZZ_NATIVE 1
#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
WASI(fd_write) int32_t wasi_fd_write(uint32_t fd, uint32_t iovs, uint32_t n, uint32_t nwritten);
WASI(fd_fdstat_get) int32_t wasi_fd_fdstat_get(uint32_t fd, uint32_t stat);
WASI(fd_fdstat_set_flags) int32_t wasi_fd_fdstat_set_flags(uint32_t fd, uint32_t flags);
WASI(fd_close) int32_t wasi_fd_close(uint32_t fd);
WASI(fd_seek) int32_t wasi_fd_seek(uint32_t fd, int64_t offset, uint32_t whence, uint32_t out);
WASI(fd_prestat_get) int32_t wasi_fd_prestat_get(uint32_t fd, uint32_t out);
WASI(fd_prestat_dir_name) int32_t wasi_fd_prestat_dir_name(uint32_t fd, uint32_t path, uint32_t len);
WASI(clock_time_get) int32_t wasi_clock_time_get(uint32_t id, uint64_t precision, uint32_t out);
WASI(clock_res_get) int32_t wasi_clock_res_get(uint32_t id, uint32_t out);
WASI(random_get) int32_t wasi_random_get(uint32_t buf, uint32_t len);
WASI(args_sizes_get) int32_t wasi_args_sizes_get(uint32_t count, uint32_t size);
WASI(args_get) int32_t wasi_args_get(uint32_t argv, uint32_t buf);
WASI(environ_sizes_get) int32_t wasi_environ_sizes_get(uint32_t count, uint32_t size);
WASI(environ_get) int32_t wasi_environ_get(uint32_t env, uint32_t buf);
WASI(sched_yield) int32_t wasi_sched_yield(void);
WASI(poll_oneoff) int32_t wasi_poll_oneoff(uint32_t in, uint32_t out, uint32_t n, uint32_t nevents);
WASI(proc_exit) void wasi_proc_exit(uint32_t status);
#endif

#if defined(FUZZ_NATIVE)
#define IMPORT(name) __attribute__((import_module("wasmplug"), import_name(#name)))
IMPORT(log) void host_log(uint32_t level, uint32_t ptr, uint32_t len);
IMPORT(fail) void host_fail(uint32_t ptr, uint32_t len);
#elif defined(FUZZ_RUSTCDC)
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
IMPORT(log) void host_log(uint32_t level, uint32_t ptr, uint32_t len);
IMPORT(get_metric) int64_t get_metric(uint32_t name);
IMPORT(record_metric) void record_metric(uint32_t name, int64_t value);
#elif defined(FUZZ_KESTREL)
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
IMPORT(event_get_i64) int64_t event_get_i64(uint32_t id);
IMPORT(event_get_u64) int64_t event_get_u64(uint32_t id);
IMPORT(event_get_f64) double event_get_f64(uint32_t id);
IMPORT(event_get_bool) int32_t event_get_bool(uint32_t id);
IMPORT(event_get_str) int32_t event_get_str(uint32_t id, uint32_t buf);
IMPORT(event_has_field) int32_t event_has_field(uint32_t id);
IMPORT(string_contains) int32_t string_contains(uint32_t a, uint32_t al, uint32_t b, uint32_t bl);
IMPORT(string_starts_with) int32_t string_starts_with(uint32_t a, uint32_t al, uint32_t b, uint32_t bl);
IMPORT(string_ends_with) int32_t string_ends_with(uint32_t a, uint32_t al, uint32_t b, uint32_t bl);
IMPORT(regex_match) int32_t regex_match(uint32_t p, uint32_t pl, uint32_t t, uint32_t tl);
IMPORT(glob_match) int32_t glob_match(uint32_t p, uint32_t pl, uint32_t t, uint32_t tl);
IMPORT(alert_emit) void alert_emit(int32_t code);
#elif !defined(FUZZ_CC_LB)
#error "define one of FUZZ_NATIVE, FUZZ_CC_LB, FUZZ_RUSTCDC, FUZZ_KESTREL"
#endif

#define SCRIPT_MAX 4096
#define SCRATCH_MAX 4096
#define ARENA_MAX (128 * 1024)

static uint8_t script[SCRIPT_MAX];
static uint32_t script_len, pc;
static uint8_t scratch[SCRATCH_MAX];
static uint8_t arena[ARENA_MAX] __attribute__((aligned(16)));
static uint32_t in_ptr, in_len;

/* Set by the script of one call, used by the next allocation / shutdown. */
static int alloc_armed;
static uint32_t alloc_for_len, alloc_value;
static uint32_t shutdown_mode, shutdown_value;

/* Set by the script of the current call. */
static int has_ret, has_ptr, has_len;
static uint32_t ret_value, out_ptr, out_len;

static volatile uint32_t sink;
static volatile int spin = 1;

static uint32_t mem_end(void) { return (uint32_t)(__builtin_wasm_memory_size(0) * 65536u); }

static uint8_t u8(void) { return pc < script_len ? script[pc++] : 0; }
static uint32_t u16(void) { uint32_t lo = u8(); return lo | ((uint32_t)u8() << 8); }
static uint32_t u32(void) { uint32_t lo = u16(); return lo | (u16() << 16); }
MAYBE_UNUSED static uint64_t u64(void) { uint64_t lo = u32(); return lo | ((uint64_t)u32() << 32); }

static uint32_t ptr(void) {
  switch (u8() & 3) {
    case 0: return u32();
    case 1: return (uint32_t)(uintptr_t)scratch + u16();
    case 2: return mem_end() - u16();
    default: return in_ptr + u16();
  }
}

static uint32_t len(void) {
  uint8_t tag = u8();
  if (tag < 0xF0) return tag;
  if (tag == 0xF0) return u16();
  if (tag == 0xF1) return u32();
  return 0xFFFFFFFFu - u8();
}

static void loop_forever(void) {
  while (spin) {
  }
}

static uint32_t recurse(uint32_t n);
static uint32_t (*volatile recurse_ptr)(uint32_t) = recurse;
static uint32_t recurse(uint32_t n) { return recurse_ptr(n + 1) + 1; }

#if defined(FUZZ_WASI)
/* Arguments are read in order into locals first (C leaves the order of
 * evaluation of call arguments unspecified). */
static void wasi_call(uint8_t fn) {
  uint32_t a, b, c, d;
  switch (fn % 17) {
    case 0: a = u8(); b = ptr(); c = len(); d = ptr(); sink = (uint32_t)wasi_fd_write(a, b, c, d); break;
    case 1: a = u8(); b = ptr(); sink = (uint32_t)wasi_fd_fdstat_get(a, b); break;
    case 2: a = u8(); b = u32(); sink = (uint32_t)wasi_fd_fdstat_set_flags(a, b); break;
    case 3: sink = (uint32_t)wasi_fd_close(u8()); break;
    case 4: {
      a = u8();
      uint64_t off = u64();
      b = u8();
      c = ptr();
      sink = (uint32_t)wasi_fd_seek(a, (int64_t)off, b, c);
      break;
    }
    case 5: a = u8(); b = ptr(); sink = (uint32_t)wasi_fd_prestat_get(a, b); break;
    case 6: a = u8(); b = ptr(); c = len(); sink = (uint32_t)wasi_fd_prestat_dir_name(a, b, c); break;
    case 7: {
      a = u8();
      uint64_t precision = u64();
      b = ptr();
      sink = (uint32_t)wasi_clock_time_get(a, precision, b);
      break;
    }
    case 8: a = u8(); b = ptr(); sink = (uint32_t)wasi_clock_res_get(a, b); break;
    case 9: a = ptr(); b = len(); sink = (uint32_t)wasi_random_get(a, b); break;
    case 10: a = ptr(); b = ptr(); sink = (uint32_t)wasi_args_sizes_get(a, b); break;
    case 11: a = ptr(); b = ptr(); sink = (uint32_t)wasi_args_get(a, b); break;
    case 12: a = ptr(); b = ptr(); sink = (uint32_t)wasi_environ_sizes_get(a, b); break;
    case 13: a = ptr(); b = ptr(); sink = (uint32_t)wasi_environ_get(a, b); break;
    case 14: sink = (uint32_t)wasi_sched_yield(); break;
    case 15: a = ptr(); b = ptr(); c = len(); d = ptr(); sink = (uint32_t)wasi_poll_oneoff(a, b, c, d); break;
    default: wasi_proc_exit(u32()); break;
  }
}
#endif

static void host_call(void) {
  uint8_t fn = u8();
#if defined(FUZZ_WASI)
  if (fn >= 2) {
    wasi_call((uint8_t)(fn - 2));
    return;
  }
#endif
#if defined(FUZZ_NATIVE)
  if (fn % 2 == 0) {
    uint32_t level = u8(), p = ptr();
    host_log(level, p, len());
  } else {
    uint32_t p = ptr();
    host_fail(p, len());
  }
#elif defined(FUZZ_RUSTCDC)
  switch (fn % 3) {
    case 0: {
      uint32_t level = u8(), p = ptr();
      host_log(level, p, len());
      break;
    }
    case 1: sink = (uint32_t)get_metric(ptr()); break;
    default: {
      uint32_t p = ptr();
      record_metric(p, (int64_t)u64());
      break;
    }
  }
#elif defined(FUZZ_KESTREL)
  switch (fn % 12) {
    case 0: sink = (uint32_t)event_get_i64(u8()); break;
    case 1: sink = (uint32_t)event_get_u64(u8()); break;
    case 2: sink = (uint32_t)event_get_f64(u8()); break;
    case 3: sink = (uint32_t)event_get_bool(u8()); break;
    case 4: {
      uint32_t id = u8();
      sink = (uint32_t)event_get_str(id, ptr());
      break;
    }
    case 5: sink = (uint32_t)event_has_field(u8()); break;
    case 11: alert_emit((int32_t)u32()); break;
    default: {
      uint32_t a = ptr(), al = len(), b = ptr(), bl = len();
      switch (fn % 12) {
        case 6: sink = (uint32_t)string_contains(a, al, b, bl); break;
        case 7: sink = (uint32_t)string_starts_with(a, al, b, bl); break;
        case 8: sink = (uint32_t)string_ends_with(a, al, b, bl); break;
        case 9: sink = (uint32_t)regex_match(a, al, b, bl); break;
        default: sink = (uint32_t)glob_match(a, al, b, bl); break;
      }
      break;
    }
  }
#else
  (void)fn; /* cc-lb links no host functions */
#endif
}

/* Runs the script of one call; the results land in the has_* / *_value globals. */
static void run(void) {
  has_ret = has_ptr = has_len = 0;
  pc = 0;
  while (pc < script_len) {
    switch (u8()) {
      case 'r': ret_value = u32(); has_ret = 1; break;
      case 'p': out_ptr = ptr(); has_ptr = 1; break;
      case 'l': out_len = len(); has_len = 1; break;
      case 'a': alloc_value = ptr(); alloc_for_len = in_len; alloc_armed = 1; break;
      case 's': shutdown_mode = u8() % 3; shutdown_value = u32(); break;
      case 'w': {
        uint32_t off = u16() % SCRATCH_MAX, n = u8();
        for (uint32_t i = 0; i < n; i++) scratch[(off + i) % SCRATCH_MAX] = u8();
        break;
      }
      case 'g': sink = (uint32_t)__builtin_wasm_memory_grow(0, u32()); break;
      case 'u': __builtin_trap();
      case 'x': loop_forever(); break;
      case 'k': sink = recurse_ptr(0); break;
      case 'm': sink = *(volatile uint8_t*)(uintptr_t)ptr(); break;
      case 'S': {
        uint32_t p = ptr();
        *(volatile uint8_t*)(uintptr_t)p = u8();
        break;
      }
      case 'h': host_call(); break;
      default: break;
    }
  }
}

MAYBE_UNUSED static void load_script(uint32_t ptr_in, uint32_t n) {
  in_ptr = ptr_in;
  in_len = n;
  script_len = n < SCRIPT_MAX ? n : SCRIPT_MAX;
  const uint8_t* src = (const uint8_t*)(uintptr_t)ptr_in;
  for (uint32_t i = 0; i < script_len; i++) script[i] = src[i];
}

MAYBE_UNUSED static uint32_t guest_alloc(uint32_t n) {
  if (alloc_armed && n == alloc_for_len) {
    alloc_armed = 0;
    return alloc_value;
  }
  /* One call's input at a time: every allocation reuses the arena. */
  return n <= ARENA_MAX ? (uint32_t)(uintptr_t)arena : 0;
}

MAYBE_UNUSED static int32_t guest_shutdown(void) {
  if (shutdown_mode == 1) __builtin_trap();
  if (shutdown_mode == 2) loop_forever();
  return (int32_t)shutdown_value;
}

MAYBE_UNUSED static uint64_t packed_output(void) {
  uint32_t p = has_ptr ? out_ptr : in_ptr, n = has_len ? out_len : in_len;
  return ((uint64_t)p << 32) | n;
}

#if defined(FUZZ_NATIVE)
EXPORT(wasmplug_abi_version_1) void abi_version(void) {}
EXPORT(wp_alloc) uint32_t wp_alloc(uint32_t n, uint32_t align) { (void)align; return guest_alloc(n); }
EXPORT(wp_free) void wp_free(uint32_t p, uint32_t n, uint32_t align) { (void)p; (void)n; (void)align; }
EXPORT(wp_init) int32_t wp_init(uint32_t p, uint32_t n) { (void)p; (void)n; return 0; }
EXPORT(wp_shutdown) int32_t wp_shutdown(void) { return guest_shutdown(); }
EXPORT(wp_filter) int32_t wp_filter(uint32_t p, uint32_t n) {
  load_script(p, n);
  run();
  return has_ret ? (int32_t)ret_value : 1;
}
EXPORT(wp_transform) uint64_t wp_transform(uint32_t p, uint32_t n) {
  load_script(p, n);
  run();
  return packed_output();
}
EXPORT(wp_observe) void wp_observe(uint32_t p, uint32_t n) {
  load_script(p, n);
  run();
}
#elif defined(FUZZ_CC_LB)
EXPORT(cc_lb_alloc) uint32_t cc_lb_alloc(uint32_t n, uint32_t align) { (void)align; return guest_alloc(n); }
EXPORT(cc_lb_free) void cc_lb_free(uint32_t p, uint32_t n, uint32_t align) { (void)p; (void)n; (void)align; }
EXPORT(cc_lb_filter) uint64_t cc_lb_filter(uint32_t p, uint32_t n) {
  load_script(p, n);
  run();
  return packed_output();
}
EXPORT(cc_lb_shape) uint64_t cc_lb_shape(uint32_t p, uint32_t n) {
  load_script(p, n);
  run();
  return packed_output();
}
EXPORT(cc_lb_observe) uint64_t cc_lb_observe(uint32_t p, uint32_t n) {
  load_script(p, n);
  run();
  return has_ptr || has_len ? packed_output() : 0;
}
#elif defined(FUZZ_RUSTCDC)
static int hex(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
EXPORT(alloc) uint32_t alloc(uint32_t n) { return guest_alloc(n); }
EXPORT(init) int32_t init(uint32_t p, uint32_t n) { (void)p; (void)n; return 0; }
EXPORT(shutdown) int32_t shutdown(void) { return guest_shutdown(); }
EXPORT(output_len) int32_t output_len(void) { return (int32_t)(has_len ? out_len : in_len); }
/* The input is a JSON string of hex digits: the script is decoded from it. */
EXPORT(transform) int32_t transform(uint32_t p, uint32_t n) {
  const uint8_t* src = (const uint8_t*)(uintptr_t)p;
  in_ptr = p;
  in_len = n;
  script_len = 0;
  for (uint32_t i = 1; i + 2 < n && script_len < SCRIPT_MAX; i += 2) {
    int hi = hex(src[i]), lo = hex(src[i + 1]);
    if (hi < 0 || lo < 0) break;
    script[script_len++] = (uint8_t)(hi << 4 | lo);
  }
  run();
  return (int32_t)(has_ret ? ret_value : has_ptr ? out_ptr : p);
}
#elif defined(FUZZ_KESTREL)
EXPORT(pred_eval) int32_t pred_eval(void) {
  int32_t n = event_get_str(1, (uint32_t)(uintptr_t)script);
  in_ptr = (uint32_t)(uintptr_t)script;
  in_len = n > 0 ? (uint32_t)n : 0;
  script_len = in_len < SCRIPT_MAX ? in_len : SCRIPT_MAX;
  run();
  return has_ret ? (int32_t)ret_value : 1;
}
#endif
