/* enrich — adds fields computed from others:
 *   "latency_class": "fast" (< 50 ms), "ok" (< 200 ms) or "slow", from "latency_ms"
 *   "alert": true when "level" is "error" or "fatal", else false
 * Records without "latency_ms" get no latency_class. Input that is not a JSON
 * object fails the call (the host reports it with the record). */
#include <wasmplug/plugin.h>

#include "../common/json_scan.h"

/* Parses the integer part of a JSON number; -1 if it is not a number. */
static long long whole_number(const uint8_t* v, size_t n) {
  size_t i = 0;
  if (i < n && v[i] == '-') return 0;
  if (i >= n || v[i] < '0' || v[i] > '9') return -1;
  long long x = 0;
  for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
    if (x < 1000000000LL) x = x * 10 + (v[i] - '0');
  }
  return x;
}

static wp_status enrich(const uint8_t* in, size_t len, wp_buf* out) {
  const uint8_t* value;
  size_t value_len;
  size_t close = 0;
  int has_latency = js_find(in, len, "latency_ms", &value, &value_len, &close);
  if (has_latency < 0) wp_fail("enrich: the record is not a JSON object");
  const char* latency_class = NULL;
  if (has_latency) {
    long long ms = whole_number(value, value_len);
    if (ms >= 0) latency_class = ms < 50 ? "fast" : ms < 200 ? "ok" : "slow";
  }
  int alert = 0;
  const uint8_t* text;
  size_t text_len;
  if (js_find(in, len, "level", &value, &value_len, NULL) == 1 && js_string(value, value_len, &text, &text_len)) {
    alert = (text_len == 5 && memcmp(text, "error", 5) == 0) || (text_len == 5 && memcmp(text, "fatal", 5) == 0);
  }
  /* Everything before the closing brace, then the new fields. */
  size_t body_end = close;
  while (body_end > 0 && (in[body_end - 1] == ' ' || in[body_end - 1] == '\n')) body_end--;
  int empty_object = in[body_end - 1] == '{';
  wp_buf_append(out, in, body_end);
  if (latency_class) {
    wp_buf_puts(out, empty_object ? "\"latency_class\":\"" : ",\"latency_class\":\"");
    wp_buf_puts(out, latency_class);
    wp_buf_putc(out, '"');
    empty_object = 0;
  }
  wp_buf_puts(out, empty_object ? "\"alert\":" : ",\"alert\":");
  wp_buf_puts(out, alert ? "true" : "false");
  wp_buf_append(out, in + close, len - close);
  return WP_EMIT;
}
WP_TRANSFORM(enrich)
