/* wasmplug C guest SDK — native ABI v1 (docs/abi.md).
 *
 * Include this header in a plugin, define hooks with the macros below, and
 * build with wasmplug_add_plugin() (WasmplugPlugin.cmake). The SDK provides
 * the ABI marker, wp_alloc/wp_free (on malloc), and the hook exports; your
 * code sees plain (const uint8_t*, size_t) inputs.
 *
 *   static int keep(const uint8_t* in, size_t len) { return len > 0; }
 *   WP_FILTER(keep)
 *
 *   static wp_status upper(const uint8_t* in, size_t len, wp_buf* out) {
 *     for (size_t i = 0; i < len; i++) wp_buf_putc(out, toupper(in[i]));
 *     return WP_EMIT;
 *   }
 *   WP_TRANSFORM(upper)
 */
#ifndef WASMPLUG_PLUGIN_H
#define WASMPLUG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmplug/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WP_EXPORT(name) __attribute__((export_name(#name)))
#define WP_IMPORT(name) __attribute__((import_module("wasmplug"), import_name(#name)))

/* Log levels of wp_log. */
enum { WP_TRACE = 0, WP_DEBUG = 1, WP_INFO = 2, WP_WARN = 3, WP_ERROR = 4 };

/* Host imports (module "wasmplug"). */
WP_IMPORT(log) void wasmplug_host_log(int32_t level, const void* ptr, size_t len);
WP_IMPORT(fail) void wasmplug_host_fail(const void* ptr, size_t len);

/* A log line (any bytes, not NUL-terminated). */
static inline void wp_log(int level, const char* msg, size_t len) { wasmplug_host_log(level, msg, len); }
/* A log line from a C string. */
static inline void wp_logs(int level, const char* msg) { wasmplug_host_log(level, msg, strlen(msg)); }
/* Fails the current call with a message; the host reports GuestError. Never returns. */
__attribute__((noreturn)) static inline void wp_fail(const char* msg) {
  wasmplug_host_fail(msg, strlen(msg));
  __builtin_unreachable();
}

/* Fails the call with "assertion failed: COND (file:line)" unless `cond`
 * holds. Use it instead of assert(): assert() reports through stdio, which
 * imports WASI, so a plugin using it is rejected unless NDEBUG is defined. */
#define WP_ASSERT(cond) ((cond) ? (void)0 : wp_fail("assertion failed: " #cond " (" __FILE__ ":" WP_STR_(__LINE__) ")"))
#define WP_STR_(x) WP_STR2_(x)
#define WP_STR2_(x) #x

/* wp_buf, wp_buf_reserve/append/putc/puts: see <wasmplug/buf.h>. */

typedef enum { WP_DROP = 0, WP_EMIT = 1 } wp_status;

/* Internal glue used by the macros. */
void wasmplug_sdk_free_input(uint32_t ptr, uint32_t len);
uint64_t wasmplug_sdk_finish_output(wp_buf* out, wp_status status);

/* int fn(const uint8_t* in, size_t len): nonzero keeps the input. */
#define WP_FILTER(fn)                                                              \
  WP_EXPORT(wp_filter) int32_t wp_filter(uint32_t ptr, uint32_t len) {             \
    int wasmplug_keep_ = fn((const uint8_t*)(uintptr_t)ptr, len);                  \
    wasmplug_sdk_free_input(ptr, len);                                              \
    return wasmplug_keep_ ? 1 : 0;                                                  \
  }

/* wp_status fn(const uint8_t* in, size_t len, wp_buf* out): WP_EMIT sends
 * `out` (possibly empty), WP_DROP drops the input. */
#define WP_TRANSFORM(fn)                                                           \
  WP_EXPORT(wp_transform) uint64_t wp_transform(uint32_t ptr, uint32_t len) {      \
    wp_buf wasmplug_out_ = {0, 0, 0, 0};                                           \
    wp_status wasmplug_status_ = fn((const uint8_t*)(uintptr_t)ptr, len, &wasmplug_out_); \
    wasmplug_sdk_free_input(ptr, len);                                              \
    return wasmplug_sdk_finish_output(&wasmplug_out_, wasmplug_status_);           \
  }

/* void fn(const uint8_t* in, size_t len): side effects only. */
#define WP_OBSERVE(fn)                                                             \
  WP_EXPORT(wp_observe) void wp_observe(uint32_t ptr, uint32_t len) {              \
    fn((const uint8_t*)(uintptr_t)ptr, len);                                       \
    wasmplug_sdk_free_input(ptr, len);                                              \
  }

/* int fn(const uint8_t* config, size_t len): 0 accepts the config; any other
 * value rejects it (the call fails with GuestError in phase init). Runs once
 * per instance before its first hook. */
#define WP_INIT(fn)                                                                \
  WP_EXPORT(wp_init) int32_t wp_init(uint32_t ptr, uint32_t len) {                 \
    int32_t wasmplug_rc_ = fn((const uint8_t*)(uintptr_t)ptr, len);                \
    wasmplug_sdk_free_input(ptr, len);                                              \
    return wasmplug_rc_;                                                            \
  }

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_PLUGIN_H */
