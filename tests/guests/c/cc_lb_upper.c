#define _POSIX_C_SOURCE 200112L
/* A cc-lb shape hook in C, written to the seed contract without any SDK:
 * the guest frees the input, the output buffer is left to the host (the
 * store is dropped after the call). */
#include <stdint.h>
#include <stdlib.h>

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(cc_lb_alloc) uint32_t cc_lb_alloc(uint32_t len, uint32_t align) {
  void* p = NULL;
  if (align < sizeof(void*)) align = sizeof(void*);
  if (posix_memalign(&p, align, len ? len : 1) != 0) return 0;
  return (uint32_t)(uintptr_t)p;
}

EXPORT(cc_lb_free) void cc_lb_free(uint32_t ptr, uint32_t len, uint32_t align) {
  (void)len;
  (void)align;
  free((void*)(uintptr_t)ptr);
}

EXPORT(cc_lb_shape) uint64_t cc_lb_shape(uint32_t ptr, uint32_t len) {
  const uint8_t* in = (const uint8_t*)(uintptr_t)ptr;
  uint8_t* out = malloc(len ? len : 1);
  if (!out) __builtin_trap();
  for (uint32_t i = 0; i < len; i++) out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (uint8_t)(in[i] - 32) : in[i];
  cc_lb_free(ptr, len, 16);
  return ((uint64_t)(uintptr_t)out << 32) | len;
}
