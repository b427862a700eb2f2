/* count — an observe hook that counts events and logs a running count.
 *
 * Config (wp_init): "every=N" logs each Nth event (default 1000). wp_shutdown
 * logs the total. The count lives in the instance: with warm isolation it runs
 * across calls; with fresh isolation every call starts again at 1. */
#include <wasmplug/plugin.h>

static unsigned long long seen = 0;
static unsigned long long every = 1000;

static void log_count(const char* prefix, unsigned long long n) {
  char line[64];
  size_t p = strlen(prefix);
  memcpy(line, prefix, p);
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  while (d) line[p++] = digits[--d];
  wp_log(WP_INFO, line, p);
}

static int32_t init(const uint8_t* cfg, size_t len) {
  if (len == 0) return 0;
  if (len < 7 || memcmp(cfg, "every=", 6) != 0) return 1;
  unsigned long long n = 0;
  for (size_t i = 6; i < len && cfg[i] != '\n'; i++) {
    if (cfg[i] < '0' || cfg[i] > '9') return 1;
    n = n * 10 + (unsigned long long)(cfg[i] - '0');
  }
  if (n == 0) return 1;
  every = n;
  return 0;
}
WP_INIT(init)

static void observe(const uint8_t* in, size_t len) {
  (void)in;
  (void)len;
  seen++;
  if (seen % every == 0) log_count("events seen: ", seen);
}
WP_OBSERVE(observe)

WP_EXPORT(wp_shutdown) int32_t wp_shutdown(void) {
  log_count("total events: ", seen);
  return 0;
}
