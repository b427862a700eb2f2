/* The redact example (examples/plugins/redact/redact.c) compiled natively,
 * byte-for-byte the same logic as redact.wasm, for the pipeline benchmark's
 * native baseline. The wasm SDK header is replaced by the few names the
 * example uses; wp_buf is the SDK's own builder (sdk/c/src/wasmplug_buf.c). */
#define WASMPLUG_PLUGIN_H 1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmplug/buf.h"

typedef enum { WP_DROP = 0, WP_EMIT = 1 } wp_status;
#define WP_TRANSFORM(fn) \
  int native_redact(const uint8_t* in, size_t len, wp_buf* out) { return fn(in, len, out) == WP_EMIT; }

#include "../examples/plugins/redact/redact.c"
