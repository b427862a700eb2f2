/* The benchmark predicate of the Kestrel profile: reads 3 fields and does one
 * string match, nothing else (no alert):
 *   pid (2, i64) > 1000 && is_root (5, bool) && name (1, string) ends with "sh" */
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(event_get_str) int32_t event_get_str(int32_t field_id, char* buf);
IMPORT(event_get_i64) int64_t event_get_i64(int32_t field_id);
IMPORT(event_get_bool) int32_t event_get_bool(int32_t field_id);
IMPORT(string_ends_with) int32_t string_ends_with(const char* s, int32_t s_len, const char* suffix, int32_t suffix_len);

static char name[4096];

EXPORT(pred_eval) int32_t pred_eval(void) {
  int64_t pid = event_get_i64(2);
  int32_t root = event_get_bool(5);
  int32_t len = event_get_str(1, name);
  return pid > 1000 && root && string_ends_with(name, len, "sh", 2);
}
