/* json_scan.h — a small, bounds-checked scanner for the top level of a JSON
 * object, shared by the example plugins. It finds a key's value token without
 * building a tree; it does not validate numbers or escapes beyond skipping
 * them. All functions read only within [in, in+len). */
#ifndef WASMPLUG_EXAMPLES_JSON_SCAN_H
#define WASMPLUG_EXAMPLES_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static size_t js_ws(const uint8_t* in, size_t len, size_t i) {
  while (i < len && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')) i++;
  return i;
}

/* Index just past the string starting at in[i] == '"', or 0 if unterminated. */
static size_t js_skip_string(const uint8_t* in, size_t len, size_t i) {
  for (i++; i < len; i++) {
    if (in[i] == '\\') {
      i++;
    } else if (in[i] == '"') {
      return i + 1;
    }
  }
  return 0;
}

/* Index just past the value starting at in[i], or 0 if malformed. */
static size_t js_skip_value(const uint8_t* in, size_t len, size_t i) {
  if (i >= len) return 0;
  if (in[i] == '"') return js_skip_string(in, len, i);
  if (in[i] == '{' || in[i] == '[') {
    size_t depth = 0;
    while (i < len) {
      if (in[i] == '"') {
        i = js_skip_string(in, len, i);
        if (!i) return 0;
        continue;
      }
      if (in[i] == '{' || in[i] == '[') depth++;
      if (in[i] == '}' || in[i] == ']') {
        if (--depth == 0) return i + 1;
      }
      i++;
    }
    return 0;
  }
  size_t start = i;
  while (i < len && in[i] != ',' && in[i] != '}' && in[i] != ']' && in[i] != ' ' && in[i] != '\n') i++;
  return i > start ? i : 0;
}

/* Finds top-level `key` in the object `in`. On success points `value` and
 * `value_len` at the value token (strings keep their quotes) and returns 1; 0 if absent;
 * -1 if `in` is not a JSON object. *close (optional) receives the index of
 * the object's closing brace. */
static int js_find(const uint8_t* in, size_t len, const char* key, const uint8_t** value, size_t* value_len,
                   size_t* close) {
  size_t key_len = strlen(key);
  int found = 0;
  size_t i = js_ws(in, len, 0);
  if (i >= len || in[i] != '{') return -1;
  i = js_ws(in, len, i + 1);
  if (i < len && in[i] == '}') {
    if (close) *close = i;
    return 0;
  }
  while (i < len) {
    if (in[i] != '"') return -1;
    size_t key_end = js_skip_string(in, len, i);
    if (!key_end) return -1;
    int match = !found && key_end - i - 2 == key_len && memcmp(in + i + 1, key, key_len) == 0;
    i = js_ws(in, len, key_end);
    if (i >= len || in[i] != ':') return -1;
    i = js_ws(in, len, i + 1);
    size_t end = js_skip_value(in, len, i);
    if (!end) return -1;
    if (match) {
      *value = in + i;
      *value_len = end - i;
      found = 1;
    }
    i = js_ws(in, len, end);
    if (i < len && in[i] == ',') {
      i = js_ws(in, len, i + 1);
      continue;
    }
    if (i < len && in[i] == '}') {
      if (close) *close = i;
      return found;
    }
    return -1;
  }
  return -1;
}

/* The value token as a string without quotes (no unescaping), or 0. */
static int js_string(const uint8_t* value, size_t value_len, const uint8_t** text, size_t* text_len) {
  if (value_len < 2 || value[0] != '"') return 0;
  *text = value + 1;
  *text_len = value_len - 2;
  return 1;
}

#endif
