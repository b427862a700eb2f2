/* enrich — adds fields computed from others:
 *   "latency_class": "fast" (< 50 ms), "ok" (< 200 ms) or "slow", from "latency_ms"
 *   "alert": true when "level" is "error" or "fatal", else false
 * Records without a numeric "latency_ms" get no latency_class. Input that is
 * not a JSON object fails the call (the host reports it with the record). */
#include <wasmplug/json.h>
#include <wasmplug/plugin.h>

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static wp_status enrich(const uint8_t* in, size_t len, wp_buf* out) {
  wp_json_value root, v;
  if (wp_json_parse(in, len, &root) != WP_JSON_OK || root.type != WP_JSON_OBJECT) {
    wp_fail("enrich: the record is not a JSON object");
  }
  const char* latency_class = NULL;
  double ms;
  if (wp_json_get(root, "latency_ms", &v) == WP_JSON_OK && wp_json_double(v, &ms) == WP_JSON_OK) {
    latency_class = ms < 50 ? "fast" : ms < 200 ? "ok" : "slow";
  }
  int alert = wp_json_get(root, "level", &v) == WP_JSON_OK &&
              (wp_json_string_eq(v, "error", 5) || wp_json_string_eq(v, "fatal", 5));

  /* The record up to its closing brace, the new fields, then the rest. */
  size_t close = (size_t)(root.ptr + root.len - 1 - in);
  size_t body_end = close;
  while (is_space(in[body_end - 1])) body_end--;
  int empty_object = in[body_end - 1] == '{';
  wp_buf_append(out, in, body_end);
  if (latency_class) {
    if (!empty_object) wp_buf_putc(out, ',');
    wp_json_write_key(out, "latency_class");
    wp_json_write_cstr(out, latency_class);
    empty_object = 0;
  }
  if (!empty_object) wp_buf_putc(out, ',');
  wp_json_write_key(out, "alert");
  wp_buf_puts(out, alert ? "true" : "false");
  wp_buf_append(out, in + close, len - close);
  return WP_EMIT;
}
WP_TRANSFORM(enrich)
