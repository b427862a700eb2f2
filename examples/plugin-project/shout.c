/* The walk-through plugin of docs/writing-plugins.md. */
#include <wasmplug/plugin.h>

static wp_status shout(const uint8_t* in, size_t len, wp_buf* out) {
  if (len == 0) return WP_DROP; /* drop empty records */
  for (size_t i = 0; i < len; i++) {
    wp_buf_putc(out, (in[i] >= 'a' && in[i] <= 'z') ? (uint8_t)(in[i] - 32) : in[i]);
  }
  wp_logs(WP_DEBUG, "shouted");
  return WP_EMIT;
}
WP_TRANSFORM(shout)
