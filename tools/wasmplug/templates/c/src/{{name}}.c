/* {{name}} — a wasmplug transform plugin (scaffolded by `wasmplug new`).
 *
 * Adds "tagged_by":"{{name}}" to every JSON object it is given:
 *
 *   {"user":"ann","action":"login"}  ->  {"user":"ann","action":"login","tagged_by":"{{name}}"}
 *
 * A blank record is dropped; a record that is not a JSON object fails the call
 * (the host reports GuestError with the message below). Replace the body of
 * tag() with your own transform: the SDK reference is
 * share/wasmplug/sdk/c/README.md in the installed package.
 */
#include <wasmplug/plugin.h>

static const char kTag[] = "\"tagged_by\":\"{{name}}\"";

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static wp_status tag(const uint8_t* in, size_t len, wp_buf* out) {
  size_t begin = 0;
  size_t end = len;
  while (begin < end && is_space(in[begin])) begin++;
  while (end > begin && is_space(in[end - 1])) end--;
  if (begin == end) return WP_DROP;
  if (end - begin < 2 || in[begin] != '{' || in[end - 1] != '}') wp_fail("record is not a JSON object");

  /* Everything before the closing brace, without trailing blanks. */
  size_t body_end = end - 1;
  while (body_end > begin + 1 && is_space(in[body_end - 1])) body_end--;
  wp_buf_append(out, in + begin, body_end - begin);
  if (body_end > begin + 1) wp_buf_putc(out, ','); /* the object had members */
  wp_buf_puts(out, kTag);
  wp_buf_putc(out, '}');
  return WP_EMIT;
}
WP_TRANSFORM(tag)
