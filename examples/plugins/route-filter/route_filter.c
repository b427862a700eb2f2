/* route-filter — keeps events whose "level" is at or above a configured level.
 *
 * Config (wp_init): one of trace, debug, info, warn, error, fatal (default
 * info). Any other config is rejected with a log line naming the allowed
 * values. Events without a known "level" string are dropped (and the host
 * counts them as dropped). Input that is not a JSON object fails the call. */
#include <wasmplug/plugin.h>

#include "../common/json_scan.h"

static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "fatal"};
enum { kLevelCount = 6 };
static int threshold = 2; /* info */

static int level_of(const uint8_t* text, size_t len) {
  for (int i = 0; i < kLevelCount; i++) {
    if (strlen(kLevels[i]) == len && memcmp(kLevels[i], text, len) == 0) return i;
  }
  return -1;
}

static int32_t init(const uint8_t* cfg, size_t len) {
  while (len > 0 && (cfg[len - 1] == '\n' || cfg[len - 1] == ' ')) len--;
  if (len == 0) return 0;
  int level = level_of(cfg, len);
  if (level < 0) {
    wp_logs(WP_ERROR, "route-filter: config must be one of trace, debug, info, warn, error, fatal");
    return 1;
  }
  threshold = level;
  return 0;
}
WP_INIT(init)

static int keep(const uint8_t* in, size_t len) {
  const uint8_t* value;
  size_t value_len;
  int found = js_find(in, len, "level", &value, &value_len, NULL);
  if (found < 0) wp_fail("route-filter: the record is not a JSON object");
  const uint8_t* text;
  size_t text_len;
  if (found == 0 || !js_string(value, value_len, &text, &text_len)) return 0;
  int level = level_of(text, text_len);
  return level >= threshold;
}
WP_FILTER(keep)
