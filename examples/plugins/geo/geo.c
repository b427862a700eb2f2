/* geo — adds "country" to a record from its "ip", asking the host: the
 * embedder's host function env.country_of (examples/host/host_functions.cpp)
 * holds the table; the plugin only sees the answer. Records without a string
 * "ip", or whose ip the host does not know, pass unchanged. Input that is not
 * a JSON object fails the call.
 *
 * The import is an embedder capability: the host must grant env.country_of in
 * LoadOptions::host_functions or admission rejects this plugin. */
#include <wasmplug/json.h>
#include <wasmplug/plugin.h>

/* country_of(ip_ptr, ip_len, out_ptr, out_cap) -> length written, or -1 when
 * the ip is unknown. The host reads and writes only inside these ranges. */
__attribute__((import_module("env"), import_name("country_of")))
int32_t country_of(const char* ip, uint32_t ip_len, char* out, uint32_t out_cap);

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static wp_status geo(const uint8_t* in, size_t len, wp_buf* out) {
  wp_json_value root, v;
  if (wp_json_parse(in, len, &root) != WP_JSON_OK || root.type != WP_JSON_OBJECT) {
    wp_fail("geo: the record is not a JSON object");
  }
  char ip[64];
  size_t ip_len = 0;
  char country[64];
  int32_t n = -1;
  if (wp_json_get(root, "ip", &v) == WP_JSON_OK && wp_json_string(v, ip, sizeof ip, &ip_len) == WP_JSON_OK) {
    n = country_of(ip, (uint32_t)ip_len, country, sizeof country);
  }
  if (n < 0) {
    wp_buf_append(out, in, len);
    return WP_EMIT;
  }
  /* The record up to its closing brace, the new field, then the rest. */
  size_t close = (size_t)(root.ptr + root.len - 1 - in);
  size_t body_end = close;
  while (is_space(in[body_end - 1])) body_end--;
  wp_buf_append(out, in, body_end);
  if (in[body_end - 1] != '{') wp_buf_putc(out, ',');
  wp_json_write_key(out, "country");
  wp_json_write_string(out, country, (size_t)n);
  wp_buf_append(out, in + close, len - close);
  return WP_EMIT;
}
WP_TRANSFORM(geo)
