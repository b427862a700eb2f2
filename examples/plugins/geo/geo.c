/* geo — adds "country" to a record from its "ip", asking the host: the
 * embedder's host function env.country_of (examples/host/host_functions.cpp)
 * holds the table; the plugin only sees the answer. Records without "ip", or
 * whose ip the host does not know, pass unchanged.
 *
 * The import is an embedder capability: the host must grant env.country_of in
 * LoadOptions::host_functions or admission rejects this plugin. */
#include <wasmplug/plugin.h>

#include "../common/json_scan.h"

/* country_of(ip_ptr, ip_len, out_ptr, out_cap) -> length written, or -1 when
 * the ip is unknown. The host reads and writes only inside these ranges. */
__attribute__((import_module("env"), import_name("country_of")))
int32_t country_of(const uint8_t* ip, uint32_t ip_len, uint8_t* out, uint32_t out_cap);

static wp_status geo(const uint8_t* in, size_t len, wp_buf* out) {
  const uint8_t* value;
  size_t value_len;
  size_t close = 0;
  int has_ip = js_find(in, len, "ip", &value, &value_len, &close);
  if (has_ip < 0) wp_fail("geo: the record is not a JSON object");
  const uint8_t* ip;
  size_t ip_len;
  uint8_t country[64];
  int32_t n = -1;
  if (has_ip == 1 && js_string(value, value_len, &ip, &ip_len)) {
    n = country_of(ip, (uint32_t)ip_len, country, sizeof country);
  }
  if (n < 0) {
    wp_buf_append(out, in, len);
    return WP_EMIT;
  }
  size_t body_end = close;
  while (body_end > 0 && (in[body_end - 1] == ' ' || in[body_end - 1] == '\n')) body_end--;
  wp_buf_append(out, in, body_end);
  wp_buf_puts(out, ",\"country\":\"");
  wp_buf_append(out, country, (size_t)n);
  wp_buf_putc(out, '"');
  wp_buf_append(out, in + close, len - close);
  return WP_EMIT;
}
WP_TRANSFORM(geo)
