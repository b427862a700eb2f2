/* redact — masks credit-card-like digit runs and e-mail addresses inside JSON
 * string values (keys are left alone). Transform hook, one JSON value per call.
 *
 *   {"user":"ann@example.com","card":"4111 1111 1111 1111"}
 *   -> {"user":"[email]","card":"************1111"}
 *
 * A digit run of 13..19 digits (spaces and dashes between digits allowed)
 * keeps its last four digits. An e-mail is local@domain.tld. Input that is
 * not a JSON text made of strings, numbers, literals, objects and arrays is
 * passed through byte for byte: this plugin only ever removes information.
 */
#include <wasmplug/plugin.h>

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_email_char(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '_' ||
         c == '-' || c == '+';
}

/* Length of a card-like run starting at s[0] (a digit), or 0. */
static size_t card_run(const uint8_t* s, size_t n, size_t* digits_out) {
  size_t i = 0, digits = 0, end = 0;
  while (i < n) {
    if (is_digit(s[i])) {
      digits++;
      i++;
      end = i;
    } else if ((s[i] == ' ' || s[i] == '-') && i + 1 < n && is_digit(s[i + 1])) {
      i++;
    } else {
      break;
    }
  }
  *digits_out = digits;
  return (digits >= 13 && digits <= 19) ? end : 0;
}

/* Length of an e-mail at s[0], or 0. `start_ok`: s[-1] is not an e-mail char. */
static size_t email_len(const uint8_t* s, size_t n) {
  size_t at = 0;
  while (at < n && is_email_char(s[at]) && s[at] != '.') at++;
  while (at < n && is_email_char(s[at])) at++;
  if (at == 0 || at >= n || s[at] != '@') return 0;
  size_t i = at + 1, dot = 0;
  while (i < n && is_email_char(s[i]) && s[i] != '+' && s[i] != '_') {
    if (s[i] == '.') dot = i;
    i++;
  }
  while (i > at + 1 && s[i - 1] == '.') i--; /* trailing dot ends the sentence */
  return (dot > at + 1 && dot + 2 < i + 1 && i - dot >= 3) ? i : 0;
}

/* Copies the string body s[0..n) (without quotes) with redactions. */
static void redact_string(const uint8_t* s, size_t n, wp_buf* out) {
  size_t i = 0;
  while (i < n) {
    if (s[i] == '\\' && i + 1 < n) { /* keep escapes intact */
      wp_buf_append(out, s + i, 2);
      i += 2;
      continue;
    }
    int boundary = (i == 0) || !is_email_char(s[i - 1]);
    size_t digits = 0;
    size_t run = (boundary && is_digit(s[i])) ? card_run(s + i, n - i, &digits) : 0;
    if (run) {
      size_t seen = 0;
      for (size_t k = 0; k < run; k++) {
        if (!is_digit(s[i + k])) continue;
        seen++;
        wp_buf_putc(out, seen + 4 > digits ? s[i + k] : '*');
      }
      i += run;
      continue;
    }
    size_t mail = boundary ? email_len(s + i, n - i) : 0;
    if (mail) {
      wp_buf_puts(out, "[email]");
      i += mail;
      continue;
    }
    wp_buf_putc(out, s[i]);
    i++;
  }
}

static wp_status redact(const uint8_t* in, size_t len, wp_buf* out) {
  if (!wp_buf_reserve(out, len + 16)) return WP_EMIT;
  size_t i = 0;
  while (i < len) {
    if (in[i] != '"') {
      wp_buf_putc(out, in[i++]);
      continue;
    }
    size_t end = i + 1;
    while (end < len && in[end] != '"') end += (in[end] == '\\') ? 2 : 1;
    if (end >= len) { /* unterminated string: copy the rest unchanged */
      wp_buf_append(out, in + i, len - i);
      break;
    }
    size_t next = end + 1;
    while (next < len && (in[next] == ' ' || in[next] == '\t')) next++;
    int is_key = next < len && in[next] == ':';
    wp_buf_putc(out, '"');
    if (is_key) {
      wp_buf_append(out, in + i + 1, end - i - 1);
    } else {
      redact_string(in + i + 1, end - i - 1, out);
    }
    wp_buf_putc(out, '"');
    i = end + 1;
  }
  return WP_EMIT;
}
WP_TRANSFORM(redact)
