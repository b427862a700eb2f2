/* Test guest in C: uppercases the input; config "drop-empty" drops empty
 * inputs; logs a line per call at debug level; fails on input "fail". */
#include <wasmplug/plugin.h>

static int drop_empty = 0;

static int32_t init(const uint8_t* cfg, size_t len) {
  if (len == 0) {
    return 0;
  }
  if (len == 10 && memcmp(cfg, "drop-empty", 10) == 0) {
    drop_empty = 1;
    return 0;
  }
  return 1; /* unknown config */
}
WP_INIT(init)

static wp_status upper(const uint8_t* in, size_t len, wp_buf* out) {
  if (len == 4 && memcmp(in, "fail", 4) == 0) {
    wp_fail("asked to fail");
  }
  if (len == 0 && drop_empty) {
    return WP_DROP;
  }
  wp_logs(WP_DEBUG, "upper called");
  if (!wp_buf_reserve(out, len)) {
    return WP_EMIT;
  }
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    wp_buf_putc(out, (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c);
  }
  return WP_EMIT;
}
WP_TRANSFORM(upper)

static int keep_nonempty(const uint8_t* in, size_t len) {
  (void)in;
  return len > 0;
}
WP_FILTER(keep_nonempty)
