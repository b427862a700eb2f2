/* route-filter — keeps events whose "level" is at or above a configured level.
 *
 * Config (wp_init): one of trace, debug, info, warn, error, fatal (default
 * info). Any other config is rejected with a log line naming the allowed
 * values. Events without a known "level" string are dropped (and the host
 * counts them as dropped). Input that is not a JSON object fails the call. */
#include <wasmplug/json.h>
#include <wasmplug/plugin.h>

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
  wp_json_value root, level;
  if (wp_json_parse(in, len, &root) != WP_JSON_OK || root.type != WP_JSON_OBJECT) {
    wp_fail("route-filter: the record is not a JSON object");
  }
  char text[8]; /* longer than any level name: not a level */
  size_t text_len;
  if (wp_json_get(root, "level", &level) != WP_JSON_OK ||
      wp_json_string(level, text, sizeof text, &text_len) != WP_JSON_OK) {
    return 0;
  }
  return level_of((const uint8_t*)text, text_len) >= threshold;
}
WP_FILTER(keep)
