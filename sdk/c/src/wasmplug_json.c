/* wasmplug C guest SDK: JSON reader and writer (see wasmplug/json.h).
 *
 * Plain C without host imports; the SDK's unit tests build it natively. The
 * scanner is an explicit state machine with a fixed-size stack, so hostile
 * nesting costs WP_JSON_MAX_DEPTH bytes of stack, never recursion. Every read
 * is checked against the end of the view it came from. */
#include "wasmplug/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t* skip_ws(const uint8_t* p, const uint8_t* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
    p++;
  }
  return p;
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The four hex digits at p[0..4) (caller checked they exist), or -1. */
static int32_t hex4(const uint8_t* p) {
  int32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hex_value(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* p at '"'. On success *next is just past the closing quote. */
static wp_json_result scan_string(const uint8_t* p, const uint8_t* end, const uint8_t** next) {
  for (p++; p < end; p++) {
    uint8_t c = *p;
    if (c == '"') {
      *next = p + 1;
      return WP_JSON_OK;
    }
    if (c < 0x20) return WP_JSON_MALFORMED;
    if (c != '\\') continue;
    if (++p >= end) return WP_JSON_MALFORMED;
    switch (*p) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        break;
      case 'u':
        if (end - p < 5 || hex4(p + 1) < 0) return WP_JSON_MALFORMED;
        p += 4;
        break;
      default:
        return WP_JSON_MALFORMED;
    }
  }
  return WP_JSON_MALFORMED;
}

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static wp_json_result scan_number(const uint8_t* p, const uint8_t* end, const uint8_t** next) {
  if (p < end && *p == '-') p++;
  if (p >= end || !is_digit(*p)) return WP_JSON_MALFORMED;
  if (*p == '0') {
    p++;
  } else {
    while (p < end && is_digit(*p)) p++;
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !is_digit(*p)) return WP_JSON_MALFORMED;
    while (p < end && is_digit(*p)) p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || !is_digit(*p)) return WP_JSON_MALFORMED;
    while (p < end && is_digit(*p)) p++;
  }
  *next = p;
  return WP_JSON_OK;
}

static wp_json_result scan_literal(const uint8_t* p, const uint8_t* end, const char* word,
                                   const uint8_t** next) {
  size_t n = strlen(word);
  if ((size_t)(end - p) < n || memcmp(p, word, n) != 0) return WP_JSON_MALFORMED;
  *next = p + n;
  return WP_JSON_OK;
}

/* A scalar at p (not a container). */
static wp_json_result scan_scalar(const uint8_t* p, const uint8_t* end, const uint8_t** next,
                                  wp_json_type* type) {
  switch (*p) {
    case '"': *type = WP_JSON_STRING; return scan_string(p, end, next);
    case 't': *type = WP_JSON_TRUE; return scan_literal(p, end, "true", next);
    case 'f': *type = WP_JSON_FALSE; return scan_literal(p, end, "false", next);
    case 'n': *type = WP_JSON_NULL; return scan_literal(p, end, "null", next);
    default: *type = WP_JSON_NUMBER; return scan_number(p, end, next);
  }
}

/* `"key" :` at p (after whitespace); *next after the colon and whitespace. */
static wp_json_result scan_key(const uint8_t* p, const uint8_t* end, const uint8_t** next) {
  if (p >= end || *p != '"') return WP_JSON_MALFORMED;
  wp_json_result r = scan_string(p, end, &p);
  if (r != WP_JSON_OK) return r;
  p = skip_ws(p, end);
  if (p >= end || *p != ':') return WP_JSON_MALFORMED;
  *next = skip_ws(p + 1, end);
  return WP_JSON_OK;
}

/* One whole value starting at p (no leading whitespace). On success `out`
 * covers it and *next is just past it. */
static wp_json_result scan_value(const uint8_t* p, const uint8_t* end, wp_json_value* out,
                                 const uint8_t** next) {
  uint8_t stack[WP_JSON_MAX_DEPTH]; /* the closing bracket of each open container */
  size_t depth = 0;
  const uint8_t* start = p;
  if (p >= end) return WP_JSON_MALFORMED;
  out->type = *p == '{' ? WP_JSON_OBJECT : *p == '[' ? WP_JSON_ARRAY : WP_JSON_INVALID;
  for (;;) {
    /* Here a value is expected at p. */
    if (p >= end) return WP_JSON_MALFORMED;
    if (*p == '{' || *p == '[') {
      if (depth == WP_JSON_MAX_DEPTH) return WP_JSON_TOO_DEEP;
      uint8_t close = *p == '{' ? '}' : ']';
      stack[depth++] = close;
      p = skip_ws(p + 1, end);
      if (p < end && *p == close) {
        p++;
        depth--;
      } else {
        if (close == '}') {
          wp_json_result r = scan_key(p, end, &p);
          if (r != WP_JSON_OK) return r;
        }
        continue;
      }
    } else {
      wp_json_type type;
      wp_json_result r = scan_scalar(p, end, &p, &type);
      if (r != WP_JSON_OK) return r;
      if (depth == 0) out->type = type;
    }
    /* After a value: close containers or move to the next member. */
    for (;;) {
      if (depth == 0) {
        out->ptr = start;
        out->len = (size_t)(p - start);
        *next = p;
        return WP_JSON_OK;
      }
      p = skip_ws(p, end);
      if (p >= end) return WP_JSON_MALFORMED;
      if (*p == stack[depth - 1]) {
        p++;
        depth--;
        continue;
      }
      if (*p != ',') return WP_JSON_MALFORMED;
      p = skip_ws(p + 1, end);
      if (stack[depth - 1] == '}') {
        wp_json_result r = scan_key(p, end, &p);
        if (r != WP_JSON_OK) return r;
      }
      break;
    }
  }
}

wp_json_result wp_json_parse(const uint8_t* in, size_t len, wp_json_value* out) {
  const uint8_t* end = in + len;
  const uint8_t* p = skip_ws(in, end);
  wp_json_value v;
  wp_json_result r = scan_value(p, end, &v, &p);
  if (r != WP_JSON_OK) return r;
  if (skip_ws(p, end) != end) return WP_JSON_MALFORMED;
  *out = v;
  return WP_JSON_OK;
}

wp_json_result wp_json_iter_init(wp_json_value container, wp_json_iter* it) {
  if ((container.type != WP_JSON_OBJECT && container.type != WP_JSON_ARRAY) || container.len < 2) {
    return WP_JSON_WRONG_TYPE;
  }
  it->pos = container.ptr + 1;
  it->end = container.ptr + container.len - 1; /* the closing bracket */
  it->is_object = container.type == WP_JSON_OBJECT;
  it->started = 0;
  return WP_JSON_OK;
}

wp_json_result wp_json_iter_next(wp_json_iter* it, wp_json_value* key, wp_json_value* value) {
  const uint8_t* p = skip_ws(it->pos, it->end);
  if (p >= it->end) {
    it->pos = p;
    return WP_JSON_NOT_FOUND;
  }
  if (it->started) {
    if (*p != ',') return WP_JSON_MALFORMED;
    p = skip_ws(p + 1, it->end);
  }
  wp_json_value k = {NULL, 0, WP_JSON_INVALID};
  if (it->is_object) {
    const uint8_t* key_start = p;
    wp_json_result r = scan_key(p, it->end, &p);
    if (r != WP_JSON_OK) return r;
    k.ptr = key_start;
    k.type = WP_JSON_STRING;
    /* The key ends at its closing quote, before any whitespace and ':'. */
    const uint8_t* q;
    (void)scan_string(key_start, it->end, &q);
    k.len = (size_t)(q - key_start);
  }
  wp_json_value v;
  wp_json_result r = scan_value(p, it->end, &v, &p);
  if (r != WP_JSON_OK) return r;
  it->pos = p;
  it->started = 1;
  if (key) *key = k;
  *value = v;
  return WP_JSON_OK;
}

wp_json_result wp_json_get_n(wp_json_value obj, const char* key, size_t key_len, wp_json_value* out) {
  if (obj.type != WP_JSON_OBJECT) return WP_JSON_WRONG_TYPE;
  wp_json_iter it;
  wp_json_result r = wp_json_iter_init(obj, &it);
  if (r != WP_JSON_OK) return r;
  wp_json_value k, v;
  while ((r = wp_json_iter_next(&it, &k, &v)) == WP_JSON_OK) {
    if (k.len == key_len + 2 && memcmp(k.ptr + 1, key, key_len) == 0) {
      *out = v;
      return WP_JSON_OK;
    }
  }
  return r;
}

wp_json_result wp_json_get(wp_json_value obj, const char* key, wp_json_value* out) {
  return wp_json_get_n(obj, key, strlen(key), out);
}

wp_json_result wp_json_index(wp_json_value arr, size_t index, wp_json_value* out) {
  if (arr.type != WP_JSON_ARRAY) return WP_JSON_WRONG_TYPE;
  wp_json_iter it;
  wp_json_result r = wp_json_iter_init(arr, &it);
  if (r != WP_JSON_OK) return r;
  wp_json_value v;
  for (size_t i = 0; (r = wp_json_iter_next(&it, NULL, &v)) == WP_JSON_OK; i++) {
    if (i == index) {
      *out = v;
      return WP_JSON_OK;
    }
  }
  return r;
}

wp_json_result wp_json_path(wp_json_value root, const char* path, wp_json_value* out) {
  wp_json_value cur = root;
  const char* seg = path;
  while (*seg) {
    size_t n = 0;
    while (seg[n] && seg[n] != '.') n++;
    wp_json_result r;
    if (cur.type == WP_JSON_OBJECT) {
      r = wp_json_get_n(cur, seg, n, &cur);
    } else if (cur.type == WP_JSON_ARRAY) {
      size_t index = 0;
      if (n == 0 || n > 9) return WP_JSON_NOT_FOUND;
      for (size_t i = 0; i < n; i++) {
        if (!is_digit((uint8_t)seg[i])) return WP_JSON_NOT_FOUND;
        index = index * 10 + (size_t)(seg[i] - '0');
      }
      r = wp_json_index(cur, index, &cur);
    } else {
      return WP_JSON_WRONG_TYPE;
    }
    if (r != WP_JSON_OK) return r;
    seg += n;
    if (*seg == '.') seg++;
  }
  *out = cur;
  return WP_JSON_OK;
}

/* Decodes the next character of a string body at *p into out[0..*n). */
static wp_json_result decode_next(const uint8_t** p, const uint8_t* end, uint8_t out[4], size_t* n) {
  const uint8_t* s = *p;
  if (*s != '\\') {
    out[0] = *s;
    *n = 1;
    *p = s + 1;
    return WP_JSON_OK;
  }
  if (end - s < 2) return WP_JSON_MALFORMED;
  uint8_t c = s[1];
  *n = 1;
  *p = s + 2;
  switch (c) {
    case '"': case '\\': case '/': out[0] = c; return WP_JSON_OK;
    case 'b': out[0] = '\b'; return WP_JSON_OK;
    case 'f': out[0] = '\f'; return WP_JSON_OK;
    case 'n': out[0] = '\n'; return WP_JSON_OK;
    case 'r': out[0] = '\r'; return WP_JSON_OK;
    case 't': out[0] = '\t'; return WP_JSON_OK;
    case 'u': break;
    default: return WP_JSON_MALFORMED;
  }
  if (end - s < 6) return WP_JSON_MALFORMED;
  int32_t cp = hex4(s + 2);
  if (cp < 0) return WP_JSON_MALFORMED;
  s += 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF) return WP_JSON_MALFORMED;
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (end - s < 6 || s[0] != '\\' || s[1] != 'u') return WP_JSON_MALFORMED;
    int32_t lo = hex4(s + 2);
    if (lo < 0xDC00 || lo > 0xDFFF) return WP_JSON_MALFORMED;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    s += 6;
  }
  uint32_t u = (uint32_t)cp;
  if (u < 0x80) {
    out[0] = (uint8_t)u;
    *n = 1;
  } else if (u < 0x800) {
    out[0] = (uint8_t)(0xC0 | (u >> 6));
    out[1] = (uint8_t)(0x80 | (u & 0x3F));
    *n = 2;
  } else if (u < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (u >> 12));
    out[1] = (uint8_t)(0x80 | ((u >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (u & 0x3F));
    *n = 3;
  } else {
    out[0] = (uint8_t)(0xF0 | (u >> 18));
    out[1] = (uint8_t)(0x80 | ((u >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((u >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (u & 0x3F));
    *n = 4;
  }
  *p = s;
  return WP_JSON_OK;
}

wp_json_result wp_json_string(wp_json_value v, char* buf, size_t cap, size_t* out_len) {
  if (cap == 0) return WP_JSON_TOO_LARGE;
  buf[0] = '\0';
  if (v.type != WP_JSON_STRING || v.len < 2) return WP_JSON_WRONG_TYPE;
  const uint8_t* p = v.ptr + 1;
  const uint8_t* end = v.ptr + v.len - 1;
  size_t len = 0;
  while (p < end) {
    uint8_t ch[4];
    size_t n;
    wp_json_result r = decode_next(&p, end, ch, &n);
    if (r != WP_JSON_OK) return r;
    if (n > cap - 1 - len) {
      buf[0] = '\0';
      return WP_JSON_TOO_LARGE;
    }
    memcpy(buf + len, ch, n);
    len += n;
  }
  buf[len] = '\0';
  if (out_len) *out_len = len;
  return WP_JSON_OK;
}

int wp_json_string_eq(wp_json_value v, const char* s, size_t len) {
  if (v.type != WP_JSON_STRING || v.len < 2) return 0;
  const uint8_t* p = v.ptr + 1;
  const uint8_t* end = v.ptr + v.len - 1;
  size_t at = 0;
  while (p < end) {
    uint8_t ch[4];
    size_t n;
    if (decode_next(&p, end, ch, &n) != WP_JSON_OK) return 0;
    if (n > len - at || memcmp(s + at, ch, n) != 0) return 0;
    at += n;
  }
  return at == len;
}

wp_json_result wp_json_int64(wp_json_value v, int64_t* out) {
  if (v.type != WP_JSON_NUMBER || v.len == 0) return WP_JSON_WRONG_TYPE;
  const uint8_t* p = v.ptr;
  const uint8_t* end = v.ptr + v.len;
  int negative = *p == '-';
  if (negative) p++;
  if (p >= end) return WP_JSON_WRONG_TYPE;
  const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t x = 0;
  for (; p < end; p++) {
    if (!is_digit(*p)) return WP_JSON_WRONG_TYPE;
    uint64_t d = (uint64_t)(*p - '0');
    if (x > (limit - d) / 10) return WP_JSON_TOO_LARGE;
    x = x * 10 + d;
  }
  *out = negative ? (int64_t)(0 - x) : (int64_t)x;
  return WP_JSON_OK;
}

wp_json_result wp_json_double(wp_json_value v, double* out) {
  if (v.type != WP_JSON_NUMBER || v.len == 0) return WP_JSON_WRONG_TYPE;
  const uint8_t* token_end;
  /* strtod also takes hex, "inf" and "nan": only JSON's grammar is a number here */
  if (scan_number(v.ptr, v.ptr + v.len, &token_end) != WP_JSON_OK || token_end != v.ptr + v.len) {
    return WP_JSON_WRONG_TYPE;
  }
  if (v.len > WP_JSON_MAX_NUMBER_LEN) return WP_JSON_TOO_LARGE;
  char text[WP_JSON_MAX_NUMBER_LEN + 1];
  memcpy(text, v.ptr, v.len);
  text[v.len] = '\0';
  char* stop = NULL;
  double d = strtod(text, &stop);
  if (stop != text + v.len) return WP_JSON_WRONG_TYPE;
  if (isinf(d)) return WP_JSON_TOO_LARGE;
  *out = d; /* underflow rounds to 0 or a subnormal: that is the nearest double */
  return WP_JSON_OK;
}

int wp_json_bool(wp_json_value v) {
  if (v.type == WP_JSON_TRUE) return 1;
  if (v.type == WP_JSON_FALSE) return 0;
  return WP_JSON_WRONG_TYPE;
}

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1, s[0] >= 0x80), or 0. */
static size_t utf8_len(const uint8_t* s, size_t n) {
  uint8_t c = s[0];
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < need || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < need; i++) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return need;
}

int wp_json_write_string(wp_buf* b, const char* str, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t* s = (const uint8_t*)str;
  if (!wp_buf_reserve(b, len + 2)) return 0;
  wp_buf_putc(b, '"');
  size_t run = 0; /* bytes s[i - run, i) to copy unchanged */
  size_t i = 0;
  while (i < len) {
    uint8_t c = s[i];
    const char* esc = NULL;
    char u[7];
    size_t keep = 0;
    if (c == '"') {
      esc = "\\\"";
    } else if (c == '\\') {
      esc = "\\\\";
    } else if (c == '\n') {
      esc = "\\n";
    } else if (c == '\r') {
      esc = "\\r";
    } else if (c == '\t') {
      esc = "\\t";
    } else if (c == '\b') {
      esc = "\\b";
    } else if (c == '\f') {
      esc = "\\f";
    } else if (c < 0x20) {
      memcpy(u, "\\u00", 4);
      u[4] = hex[c >> 4];
      u[5] = hex[c & 0xF];
      u[6] = '\0';
      esc = u;
    } else if (c < 0x80) {
      keep = 1;
    } else {
      keep = utf8_len(s + i, len - i);
      if (keep == 0) esc = "\xEF\xBF\xBD"; /* U+FFFD for a byte that is not UTF-8 */
    }
    if (keep) {
      run += keep;
      i += keep;
      continue;
    }
    wp_buf_append(b, s + i - run, run);
    run = 0;
    wp_buf_puts(b, esc);
    i++;
  }
  wp_buf_append(b, s + len - run, run);
  return wp_buf_putc(b, '"');
}

int wp_json_write_cstr(wp_buf* b, const char* s) { return wp_json_write_string(b, s, strlen(s)); }

int wp_json_write_key(wp_buf* b, const char* key) {
  wp_json_write_cstr(b, key);
  return wp_buf_putc(b, ':');
}

int wp_json_write_uint64(wp_buf* b, uint64_t v) {
  char digits[20];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return wp_buf_append(b, digits + sizeof digits - n, n);
}

int wp_json_write_int64(wp_buf* b, int64_t v) {
  if (v < 0) {
    wp_buf_putc(b, '-');
    return wp_json_write_uint64(b, 0 - (uint64_t)v);
  }
  return wp_json_write_uint64(b, (uint64_t)v);
}

int wp_json_write_fixed(wp_buf* b, double v, int decimals) {
  static const double kScale[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  if (decimals < 0 || decimals > 9 || !isfinite(v)) return 0;
  double scaled = v * kScale[decimals];
  /* 2^63: larger magnitudes do not fit int64 */
  if (!(fabs(scaled) < 9223372036854775808.0 - 1024.0)) return 0;
  int64_t r = (int64_t)(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
  uint64_t mag = r < 0 ? 0 - (uint64_t)r : (uint64_t)r;
  uint64_t unit = (uint64_t)kScale[decimals];
  if (r < 0) wp_buf_putc(b, '-');
  wp_json_write_uint64(b, mag / unit);
  if (decimals == 0) return !b->failed;
  char frac[9];
  uint64_t f = mag % unit;
  for (int i = decimals - 1; i >= 0; i--) {
    frac[i] = (char)('0' + f % 10);
    f /= 10;
  }
  wp_buf_putc(b, '.');
  return wp_buf_append(b, frac, (size_t)decimals);
}

int wp_json_write_value(wp_buf* b, wp_json_value v) { return wp_buf_append(b, v.ptr, v.len); }
