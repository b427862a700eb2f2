/* Test guest for the WASI capability set (LoadOptions::wasi): a C plugin on
 * wasi-libc. The transform's input picks what it does:
 *   "print"   printf/fprintf lines (→ the plugin's log), emits "printed"
 *   "clock"   emits "ok" when realtime and monotonic clocks work and a 2 ms
 *             nanosleep (poll_oneoff) took at least 2 ms
 *   "random"  emits 16 random bytes as hex
 *   "exit0"   exit(0)   → the call ends normally (dropped)
 *   "exit3"   exit(3)   → GuestError
 *   "hostile" fd_write with an iovec pointing outside memory → AbiViolation
 *   "hostile-table"  fd_write whose iovec array lies outside memory
 *   "flood"   10000 printed lines (the log budget bounds them)
 *   "sleep"   sleeps 10 s (the call deadline bounds it)
 *   "pieces"  fd_write "piece ", "by ", "piece\n", then "tail" (no newline)
 *   "ctors"   how often the constructor ran in this instance (_initialize)
 *   "subs"    poll_oneoff with 4096 and 4097 zero-timeout clock subscriptions:
 *             emits "4096:<errno> 4097:<errno>"
 *   anything else: echoed
 * Config "exit0": wp_init calls exit(0). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <wasi/api.h>

#include <wasmplug/plugin.h>

static int is(const uint8_t* in, size_t len, const char* word) {
  return len == strlen(word) && memcmp(in, word, len) == 0;
}

static int constructed;
__attribute__((constructor)) static void construct(void) { constructed++; }

static int32_t init(const uint8_t* cfg, size_t len) {
  if (is(cfg, len, "exit0")) {
    exit(0);
  }
  return 0;
}
WP_INIT(init)

static wp_status run(const uint8_t* in, size_t len, wp_buf* out) {
  if (is(in, len, "print")) {
    printf("hello from printf %d\n", 42);
    printf("two\nlines\n");
    fprintf(stderr, "to stderr\n");
    wp_buf_puts(out, "printed");
    return WP_EMIT;
  }
  if (is(in, len, "clock")) {
    struct timespec a, b, wall;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_REALTIME, &wall);
    struct timespec d = {0, 2 * 1000 * 1000};
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    wp_buf_puts(out, (ns >= 2000000 && wall.tv_sec > 1700000000) ? "ok" : "bad");
    return WP_EMIT;
  }
  if (is(in, len, "random")) {
    uint8_t r[16];
    if (__wasi_random_get(r, sizeof r) != 0) {
      wp_fail("random_get failed");
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof r; i++) {
      wp_buf_putc(out, (uint8_t)hex[r[i] >> 4]);
      wp_buf_putc(out, (uint8_t)hex[r[i] & 15]);
    }
    return WP_EMIT;
  }
  if (is(in, len, "exit0")) {
    exit(0);
  }
  if (is(in, len, "exit3")) {
    exit(3);
  }
  if (is(in, len, "hostile")) {
    __wasi_ciovec_t iov = {(const uint8_t*)(uintptr_t)0xfffffff0u, 64};
    __wasi_size_t n = 0;
    if (__wasi_fd_write(1, &iov, 1, &n) != 0) {
      wp_buf_puts(out, "errno ");
    }
    wp_buf_puts(out, "survived");
    return WP_EMIT;
  }
  if (is(in, len, "hostile-table")) {
    __wasi_size_t n = 0;
    if (__wasi_fd_write(1, (const __wasi_ciovec_t*)(uintptr_t)0xfffffffcu, 1000, &n) != 0) {
      wp_buf_puts(out, "errno ");
    }
    wp_buf_puts(out, "survived");
    return WP_EMIT;
  }
  if (is(in, len, "flood")) {
    for (int i = 0; i < 10000; i++) {
      printf("flood line %d with some padding to make it longer\n", i);
    }
    wp_buf_puts(out, "flooded");
    return WP_EMIT;
  }
  if (is(in, len, "sleep")) {
    struct timespec d = {10, 0};
    nanosleep(&d, NULL);
    wp_buf_puts(out, "woke");
    return WP_EMIT;
  }
  if (is(in, len, "pieces")) {
    static const char* const parts[] = {"piece ", "by ", "piece\n", "tail"};
    for (size_t i = 0; i < 4; i++) {
      __wasi_ciovec_t iov = {(const uint8_t*)parts[i], strlen(parts[i])};
      __wasi_size_t n = 0;
      if (__wasi_fd_write(1, &iov, 1, &n) != 0) {
        wp_fail("fd_write failed");
      }
    }
    wp_buf_puts(out, "written");
    return WP_EMIT;
  }
  if (is(in, len, "subs")) {
    static const uint32_t counts[] = {4096, 4097};
    for (size_t c = 0; c < 2; c++) {
      __wasi_subscription_t* subs = calloc(counts[c], sizeof *subs);
      __wasi_event_t* events = calloc(counts[c], sizeof *events);
      if (!subs || !events) {
        wp_fail("out of memory");
      }
      for (uint32_t i = 0; i < counts[c]; i++) {
        subs[i].userdata = i;
        subs[i].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[i].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
      }
      __wasi_size_t n = 0;
      __wasi_errno_t err = __wasi_poll_oneoff(subs, events, counts[c], &n);
      char text[32];
      int w = 0;
      for (uint32_t v = counts[c], d = 1000; d > 0; d /= 10) text[w++] = (char)('0' + v / d % 10);
      text[w++] = ':';
      if (err >= 10) text[w++] = (char)('0' + err / 10);
      text[w++] = (char)('0' + err % 10);
      text[w++] = c == 0 ? ' ' : '\0';
      wp_buf_append(out, text, (size_t)(c == 0 ? w : w - 1));
      free(subs);
      free(events);
    }
    return WP_EMIT;
  }
  if (is(in, len, "ctors")) {
    wp_buf_putc(out, (uint8_t)('0' + constructed));
    return WP_EMIT;
  }
  wp_buf_append(out, in, len);
  return WP_EMIT;
}
WP_TRANSFORM(run)
