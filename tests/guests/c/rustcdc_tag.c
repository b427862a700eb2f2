/* A rustcdc transform in C, written to the rustcdc WASM Transform SDK
 * contract without the wasmplug SDK:
 *   - deletes ("op":"d") are filtered (returns -1)
 *   - events containing "poison" fail the transform (returns -2)
 *   - events containing "garble" produce output that is not JSON
 *   - others get ,"tagged":"<config tag>" before the closing brace
 * Counts processed events in the host metric "events.seen", logs through env.log. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

IMPORT(log) void host_log(int32_t level, const char* ptr, int32_t len);
IMPORT(get_metric) int64_t get_metric(const char* name);
IMPORT(record_metric) void record_metric(const char* name, int64_t value);

static char tag[64] = "rustcdc";
static int32_t last_output_len = 0;
static uint8_t* last_output = 0;

static int contains(const uint8_t* s, size_t n, const char* needle) {
  size_t m = strlen(needle);
  for (size_t i = 0; i + m <= n; i++) {
    if (memcmp(s + i, needle, m) == 0) return 1;
  }
  return 0;
}

EXPORT(alloc) int32_t alloc(int32_t len) { return (int32_t)(uintptr_t)malloc(len > 0 ? (size_t)len : 1); }

EXPORT(output_len) int32_t output_len(void) { return last_output_len; }

EXPORT(init) int32_t init(int32_t ptr, int32_t len) {
  const char* cfg = (const char*)(uintptr_t)ptr;
  if (len == 6 && memcmp(cfg, "reject", 6) == 0) return 1;
  if (len > 0 && len < (int32_t)sizeof tag) {
    memcpy(tag, cfg, (size_t)len);
    tag[len] = 0;
  }
  host_log(2, "init", 4);
  return 0;
}

EXPORT(shutdown) int32_t shutdown(void) { return 0; }

EXPORT(transform) int32_t transform(int32_t ptr, int32_t len) {
  const uint8_t* in = (const uint8_t*)(uintptr_t)ptr;
  size_t n = (size_t)len;
  record_metric("events.seen", 1);
  free(last_output);
  last_output = 0;
  if (contains(in, n, "\"op\":\"d\"")) return -1;
  if (contains(in, n, "poison")) {
    host_log(4, "poisoned event", 14);
    return -2;
  }
  size_t close = n;
  while (close > 0 && in[close - 1] != '}') close--;
  if (close == 0) return -3;
  close--; /* index of the closing brace */
  const char* garble = contains(in, n, "garble") ? "{{{" : 0;
  size_t tag_len = strlen(tag);
  size_t cap = n + tag_len + 16;
  uint8_t* out = malloc(cap);
  if (!out) return -4;
  size_t o = 0;
  if (garble) {
    memcpy(out, garble, 3);
    o = 3;
  } else {
    memcpy(out, in, close);
    o = close;
    memcpy(out + o, ",\"tagged\":\"", 11);
    o += 11;
    memcpy(out + o, tag, tag_len);
    o += tag_len;
    out[o++] = '"';
    memcpy(out + o, in + close, n - close);
    o += n - close;
  }
  free((void*)in);
  last_output = out;
  last_output_len = (int32_t)o;
  if (get_metric("events.seen") < 0) return -5;
  return (int32_t)(uintptr_t)out;
}
