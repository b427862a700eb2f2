/* Compiles and links, but snprintf pulls in WASI imports (fd_write, ...),
 * so the runtime would reject the module: its build must fail. */
#include <stdio.h>
#include <wasmplug/plugin.h>

static wp_status describe(const uint8_t* in, size_t len, wp_buf* out) {
  char line[32];
  int n = snprintf(line, sizeof line, "%zu bytes", len);
  (void)in;
  wp_buf_append(out, line, (size_t)n);
  return WP_EMIT;
}
WP_TRANSFORM(describe)
