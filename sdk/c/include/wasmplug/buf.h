/* wasmplug C guest SDK — the output builder (wp_buf).
 *
 * Included by <wasmplug/plugin.h> and <wasmplug/json.h>; plain C with no
 * dependency on the host ABI, so it also compiles natively (the SDK's unit
 * tests do). */
#ifndef WASMPLUG_BUF_H
#define WASMPLUG_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A growable byte buffer. Start from all zeroes ({0}); grows with realloc.
 * On allocation failure `failed` is set, further appends are ignored and
 * return 0 (a transform whose output failed then fails its call with
 * "out of memory while building the output"). */
typedef struct {
  uint8_t* data;
  size_t len;
  size_t cap;
  int failed;
} wp_buf;

/* Makes room for `extra` more bytes. 1 on success, 0 if the buffer failed. */
int wp_buf_reserve(wp_buf* b, size_t extra);
/* Appends `len` bytes. 1 on success, 0 if the buffer failed. */
int wp_buf_append(wp_buf* b, const void* data, size_t len);
/* Appends one byte. The common case (room left) is inline: a transform that
 * copies its input byte by byte pays a store, not a call. */
static inline int wp_buf_putc(wp_buf* b, uint8_t c) {
  if (b->len < b->cap && !b->failed) {
    b->data[b->len++] = c;
    return 1;
  }
  return wp_buf_append(b, &c, 1);
}
/* Appends a NUL-terminated string (without the NUL). */
static inline int wp_buf_puts(wp_buf* b, const char* s) { return wp_buf_append(b, s, strlen(s)); }

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_BUF_H */
