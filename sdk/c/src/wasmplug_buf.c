/* wasmplug C guest SDK: the output builder. Plain C (also built natively by
 * the SDK's unit tests). */
#include "wasmplug/buf.h"

#include <stdlib.h>

int wp_buf_reserve(wp_buf* b, size_t extra) {
  if (b->failed) {
    return 0;
  }
  if (extra <= b->cap - b->len) {
    return 1;
  }
  if (extra > SIZE_MAX / 2 - b->len) {
    b->failed = 1;
    return 0;
  }
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra) {
    cap *= 2;
  }
  uint8_t* data = (uint8_t*)realloc(b->data, cap);
  if (!data) {
    b->failed = 1;
    return 0;
  }
  b->data = data;
  b->cap = cap;
  return 1;
}

int wp_buf_append(wp_buf* b, const void* data, size_t len) {
  if (len == 0) {
    return !b->failed;
  }
  if (!wp_buf_reserve(b, len)) {
    return 0;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 1;
}
