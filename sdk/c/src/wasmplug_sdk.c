/* wasmplug C guest SDK: ABI marker, allocator exports and output glue
 * (wp_buf itself: wasmplug_buf.c). */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include "wasmplug/plugin.h"

/* ABI marker: declares native ABI version 1. */
WP_EXPORT(wasmplug_abi_version_1) void wasmplug_abi_version_1(void) {}

/* Returns `len` bytes aligned to `align` (a power of two up to 64 KiB), or 0. */
WP_EXPORT(wp_alloc) uint32_t wp_alloc(uint32_t len, uint32_t align) {
  if (align == 0 || (align & (align - 1)) != 0 || align > 65536) {
    return 0;
  }
  void* p = NULL;
  if (posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, len ? len : 1) != 0) {
    return 0;
  }
  return (uint32_t)(uintptr_t)p;
}

/* Frees a buffer from wp_alloc that the host did not pass on. */
WP_EXPORT(wp_free) void wp_free(uint32_t ptr, uint32_t len, uint32_t align) {
  (void)len;
  (void)align;
  free((void*)(uintptr_t)ptr);
}

void wasmplug_sdk_free_input(uint32_t ptr, uint32_t len) {
  if (len != 0) {
    free((void*)(uintptr_t)ptr);
  }
}

static uint8_t empty_output;
/* The last output handed to the host: it stays valid until the next call. */
static uint8_t* last_output;

uint64_t wasmplug_sdk_finish_output(wp_buf* out, wp_status status) {
  free(last_output);
  last_output = NULL;
  if (status == WP_DROP) {
    free(out->data);
    return 0;
  }
  if (out->failed) {
    free(out->data);
    wp_fail("out of memory while building the output");
  }
  if (out->len == 0) {
    free(out->data);
    /* A non-null pointer with length 0 is an empty output, not a drop. */
    return (uint64_t)(uintptr_t)&empty_output << 32;
  }
  last_output = out->data;
  return ((uint64_t)(uintptr_t)out->data << 32) | (uint64_t)out->len;
}
