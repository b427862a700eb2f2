/* Prefixes each record with GREETING (from greet.h). */
#include <wasmplug/plugin.h>

#include "greet.h"

static wp_status greet(const uint8_t* in, size_t len, wp_buf* out) {
  int unused_on_purpose = 0; /* a warning; an error only with WERROR */
  wp_buf_puts(out, GREETING);
  wp_buf_append(out, in, len);
  return WP_EMIT;
}
WP_TRANSFORM(greet)
