/* wasmplug C guest SDK — a small JSON reader and writer for plugins.
 *
 * Reading works in place on the input bytes: a wp_json_value is a view of one
 * value's text (no tree, no allocation). Every function reads only within the
 * bytes it was given, never recurses, and refuses nesting deeper than
 * WP_JSON_MAX_DEPTH. Writing appends to a wp_buf. No printf, no WASI imports:
 * a plugin using this still imports only wasmplug.log and wasmplug.fail.
 *
 *   wp_json_value root, level;
 *   if (wp_json_parse(in, len, &root) != WP_JSON_OK) wp_fail("not JSON");
 *   char text[16];
 *   if (wp_json_path(root, "event.level", &level) == WP_JSON_OK &&
 *       wp_json_string(level, text, sizeof text, NULL) == WP_JSON_OK) ...
 *
 *   wp_buf_puts(out, "{\"msg\":");
 *   wp_json_write_string(out, msg, msg_len);   // quotes and escapes
 *   wp_buf_puts(out, ",\"n\":");
 *   wp_json_write_int64(out, n);
 *   wp_buf_putc(out, '}');
 */
#ifndef WASMPLUG_JSON_H
#define WASMPLUG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "wasmplug/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of arrays and objects accepted (the outermost container is
 * depth 1). Deeper input is refused with WP_JSON_TOO_DEEP. */
#define WP_JSON_MAX_DEPTH 64

/* Longest number token wp_json_double accepts (longer: WP_JSON_TOO_LARGE). */
#define WP_JSON_MAX_NUMBER_LEN 64

/* Results. WP_JSON_OK is 0; the errors are negative. */
typedef enum {
  WP_JSON_OK = 0,
  WP_JSON_NOT_FOUND = -1,  /* no such key / index */
  WP_JSON_MALFORMED = -2,  /* not valid JSON (truncated, bad escape, bad number, ...) */
  WP_JSON_TOO_DEEP = -3,   /* nesting deeper than WP_JSON_MAX_DEPTH */
  WP_JSON_WRONG_TYPE = -4, /* e.g. wp_json_int64 on a string, or 1.5 */
  WP_JSON_TOO_LARGE = -5,  /* number out of range, or the caller's buffer is too small */
} wp_json_result;

typedef enum {
  WP_JSON_INVALID = 0,
  WP_JSON_NULL,
  WP_JSON_FALSE,
  WP_JSON_TRUE,
  WP_JSON_NUMBER,
  WP_JSON_STRING,
  WP_JSON_ARRAY,
  WP_JSON_OBJECT,
} wp_json_type;

/* One value's text: `ptr[0..len)` is the value exactly as in the input
 * (a string keeps its quotes and escapes). Values handed out by this API
 * have been checked to be well-formed JSON. */
typedef struct {
  const uint8_t* ptr;
  size_t len;
  wp_json_type type;
} wp_json_value;

/* Checks that `in[0..len)` is exactly one JSON value (whitespace around it
 * allowed) and points `out` at it. Strings are checked for valid escapes and
 * no raw control characters; their bytes are not checked to be UTF-8. */
wp_json_result wp_json_parse(const uint8_t* in, size_t len, wp_json_value* out);

/* The value of member `key` (`key_len` bytes, compared with the key as written
 * in the input, i.e. escapes are not decoded) of object `obj`. With duplicate
 * keys the first wins. WP_JSON_WRONG_TYPE if `obj` is not an object. */
wp_json_result wp_json_get_n(wp_json_value obj, const char* key, size_t key_len, wp_json_value* out);
/* wp_json_get_n with a NUL-terminated key. */
wp_json_result wp_json_get(wp_json_value obj, const char* key, wp_json_value* out);
/* Element `index` (from 0) of array `arr`. */
wp_json_result wp_json_index(wp_json_value arr, size_t index, wp_json_value* out);
/* Follows a dotted path from `root`: "a.b.c" is member c of member b of member
 * a; a segment of digits indexes an array ("items.0.id"). Keys containing '.'
 * cannot be reached this way (use wp_json_get_n). An empty path is `root`. */
wp_json_result wp_json_path(wp_json_value root, const char* path, wp_json_value* out);

/* Walks the members of an object or the elements of an array:
 *
 *   wp_json_iter it;
 *   wp_json_value key, value;
 *   wp_json_iter_init(obj, &it);
 *   while (wp_json_iter_next(&it, &key, &value) == WP_JSON_OK) ...
 *
 * For arrays `key` is left with type WP_JSON_INVALID (it may be NULL). */
typedef struct {
  const uint8_t* pos;
  const uint8_t* end;
  int is_object;
  int started;
} wp_json_iter;
wp_json_result wp_json_iter_init(wp_json_value container, wp_json_iter* it);
/* WP_JSON_OK with the next member, WP_JSON_NOT_FOUND past the last one. */
wp_json_result wp_json_iter_next(wp_json_iter* it, wp_json_value* key, wp_json_value* value);

/* Decodes string `v` (escapes, \u surrogate pairs to UTF-8) into `buf`, which
 * gets a terminating NUL. `*out_len` (optional) receives the decoded length
 * without the NUL; the text may contain NUL bytes from \u0000.
 * WP_JSON_TOO_LARGE if it does not fit in `cap` bytes (NUL included);
 * WP_JSON_MALFORMED for a lone surrogate. */
wp_json_result wp_json_string(wp_json_value v, char* buf, size_t cap, size_t* out_len);
/* 1 if `v` is a string whose decoded text is exactly `s[0..len)`, else 0. */
int wp_json_string_eq(wp_json_value v, const char* s, size_t len);

/* The integer `v` (no fraction or exponent; "-0" is 0). WP_JSON_WRONG_TYPE for
 * a non-number or a number with a fraction/exponent, WP_JSON_TOO_LARGE outside
 * int64. */
wp_json_result wp_json_int64(wp_json_value v, int64_t* out);
/* Any number `v` as the nearest double (strtod; no WASI import). Out-of-range
 * magnitudes and tokens longer than WP_JSON_MAX_NUMBER_LEN: WP_JSON_TOO_LARGE. */
wp_json_result wp_json_double(wp_json_value v, double* out);
/* 1 if `v` is true, 0 if false; WP_JSON_WRONG_TYPE otherwise. */
int wp_json_bool(wp_json_value v);

/* Appends `s[0..len)` as a JSON string with quotes: '"' and '\\' and control
 * characters are escaped (\n, \t, ..., \u00XX); bytes that are not valid
 * UTF-8 become U+FFFD, so the output is always valid JSON. Returns 1, or 0 if
 * the buffer failed. */
int wp_json_write_string(wp_buf* b, const char* s, size_t len);
/* Appends a NUL-terminated string as a JSON string. */
int wp_json_write_cstr(wp_buf* b, const char* s);
/* Appends `"key":` (key escaped as by wp_json_write_string). */
int wp_json_write_key(wp_buf* b, const char* key);
/* Appends an integer in decimal. */
int wp_json_write_int64(wp_buf* b, int64_t v);
int wp_json_write_uint64(wp_buf* b, uint64_t v);
/* Appends `v` rounded to `decimals` fraction digits (0..9), e.g. 12.35 for
 * (12.345, 2); trailing zeros are kept. Returns 0 without writing anything
 * if `v` is not finite, `decimals` is out of range or |v| * 10^decimals
 * does not fit in int64 (JSON has no NaN or infinity). */
int wp_json_write_fixed(wp_buf* b, double v, int decimals);
/* Appends a value's text unchanged (e.g. to copy a field through). */
int wp_json_write_value(wp_buf* b, wp_json_value v);

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_JSON_H */
