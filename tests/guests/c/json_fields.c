/* The SDK's JSON reader and writer end to end (tests/unit/sdk_test.cpp,
 * Sdk.JsonGuest*). Transform: reads id, ratio, level, user.name and
 * user.tags from an object and writes
 *   {"name":...,"next_id":id+1,"ratio":ratio to 3 places,"tags":count,"error":level=="error"}
 * Any lookup that fails fails the call with "json_fields: FIELD: REASON"; a
 * member "assert_false" trips WP_ASSERT. */
#include <wasmplug/json.h>
#include <wasmplug/plugin.h>

static const char* reason(wp_json_result r) {
  switch (r) {
    case WP_JSON_OK: return "ok";
    case WP_JSON_NOT_FOUND: return "missing";
    case WP_JSON_MALFORMED: return "malformed";
    case WP_JSON_TOO_DEEP: return "nested too deep";
    case WP_JSON_WRONG_TYPE: return "wrong type";
    case WP_JSON_TOO_LARGE: return "too large";
  }
  return "?";
}

static void check(wp_json_result r, const char* field) {
  if (r == WP_JSON_OK) return;
  char msg[128] = "json_fields: ";
  size_t n = strlen(msg);
  const char* parts[3] = {field, ": ", reason(r)};
  for (int i = 0; i < 3; i++) {
    size_t k = strlen(parts[i]);
    if (k > sizeof msg - 1 - n) k = sizeof msg - 1 - n;
    memcpy(msg + n, parts[i], k);
    n += k;
  }
  msg[n] = '\0';
  wp_fail(msg);
}

static wp_status fields(const uint8_t* in, size_t len, wp_buf* out) {
  wp_json_value root, v;
  check(wp_json_parse(in, len, &root), "input");
  WP_ASSERT(wp_json_get(root, "assert_false", &v) != WP_JSON_OK);

  char name[64];
  size_t name_len = 0;
  check(wp_json_path(root, "user.name", &v), "user.name");
  check(wp_json_string(v, name, sizeof name, &name_len), "user.name");

  int64_t id = 0;
  check(wp_json_get(root, "id", &v), "id");
  check(wp_json_int64(v, &id), "id");
  if (id == INT64_MAX) check(WP_JSON_TOO_LARGE, "id");

  double ratio = 0;
  check(wp_json_get(root, "ratio", &v), "ratio");
  check(wp_json_double(v, &ratio), "ratio");

  int is_error = wp_json_get(root, "level", &v) == WP_JSON_OK && wp_json_string_eq(v, "error", 5);

  int64_t tags = 0;
  wp_json_iter it;
  check(wp_json_path(root, "user.tags", &v), "user.tags");
  check(wp_json_iter_init(v, &it), "user.tags");
  wp_json_value tag;
  wp_json_result r;
  while ((r = wp_json_iter_next(&it, NULL, &tag)) == WP_JSON_OK) tags++;
  if (r != WP_JSON_NOT_FOUND) check(r, "user.tags");

  wp_buf_putc(out, '{');
  wp_json_write_key(out, "name");
  wp_json_write_string(out, name, name_len);
  wp_buf_putc(out, ',');
  wp_json_write_key(out, "next_id");
  wp_json_write_int64(out, id + 1);
  wp_buf_putc(out, ',');
  wp_json_write_key(out, "ratio");
  if (!wp_json_write_fixed(out, ratio, 3)) check(WP_JSON_TOO_LARGE, "ratio");
  wp_buf_putc(out, ',');
  wp_json_write_key(out, "tags");
  wp_json_write_int64(out, tags);
  wp_buf_putc(out, ',');
  wp_json_write_key(out, "error");
  wp_buf_puts(out, is_error ? "true" : "false");
  wp_buf_putc(out, '}');
  return WP_EMIT;
}
WP_TRANSFORM(fields)
