/* A Kestrel predicate in C, written to the seed's host-function API (no SDK):
 * reads 3 fields and does one string match —
 *   process.name (1, string) ends with "sh", pid (2, i64) > 1000,
 *   is_root (5, bool) — and emits alert 42 on a match. */
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(event_get_str) int32_t event_get_str(int32_t field_id, char* buf);
IMPORT(event_get_i64) int64_t event_get_i64(int32_t field_id);
IMPORT(event_get_bool) int32_t event_get_bool(int32_t field_id);
IMPORT(string_ends_with) int32_t string_ends_with(const char* s, int32_t s_len, const char* suffix, int32_t suffix_len);
IMPORT(alert_emit) void alert_emit(int32_t code);

static char name[4096];

EXPORT(pred_eval) int32_t pred_eval(void) {
  if (event_get_i64(2) <= 1000 || !event_get_bool(5)) return 0;
  int32_t len = event_get_str(1, name);
  if (!string_ends_with(name, len, "sh", 2)) return 0;
  alert_emit(42);
  return 1;
}
