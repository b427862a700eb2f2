// redact — masks credit-card-like digit runs and e-mail addresses inside JSON
// string values (keys are left alone). The same logic as
// examples/plugins/redact/redact.c, byte for byte the same output.
//
//   {"user":"ann@example.com","card":"4111 1111 1111 1111"}
//   -> {"user":"[email]","card":"************1111"}
import { Output, transform } from "wasmplug-sdk/assembly";
export { wasmplug_abi_version_1, wp_alloc, wp_free } from "wasmplug-sdk/assembly";

// @ts-ignore: decorator
@inline function isDigit(c: u8): bool {
  return c >= 0x30 && c <= 0x39;
}

function isEmailChar(c: u8): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c) || c == 0x2e /* . */ ||
    c == 0x5f /* _ */ || c == 0x2d /* - */ || c == 0x2b /* + */;
}

let runDigits = 0;

// Length of a card-like run at s[start] (a digit) before `n`, or 0; the digit
// count goes to runDigits.
function cardRun(s: Uint8Array, start: i32, n: i32): i32 {
  let i = start, digits = 0, end = start;
  while (i < n) {
    const c = unchecked(s[i]);
    if (isDigit(c)) {
      digits++;
      i++;
      end = i;
    } else if ((c == 0x20 || c == 0x2d) && i + 1 < n && isDigit(unchecked(s[i + 1]))) {
      i++;
    } else {
      break;
    }
  }
  runDigits = digits;
  return digits >= 13 && digits <= 19 ? end - start : 0;
}

// Length of an e-mail at s[start] before `n`, or 0.
function emailLen(s: Uint8Array, start: i32, n: i32): i32 {
  let at = start;
  while (at < n && isEmailChar(unchecked(s[at])) && unchecked(s[at]) != 0x2e) at++;
  while (at < n && isEmailChar(unchecked(s[at]))) at++;
  if (at == start || at >= n || unchecked(s[at]) != 0x40 /* @ */) return 0;
  let i = at + 1, dot = start;
  let sawDot = false;
  while (i < n) {
    const c = unchecked(s[i]);
    if (!isEmailChar(c) || c == 0x2b || c == 0x5f) break;
    if (c == 0x2e) {
      dot = i;
      sawDot = true;
    }
    i++;
  }
  while (i > at + 1 && unchecked(s[i - 1]) == 0x2e) i--; // a trailing dot ends the sentence
  return sawDot && dot > at + 1 && dot + 2 < i + 1 && i - dot >= 3 ? i - start : 0;
}

// Copies the string body s[start, end) with redactions.
function redactString(s: Uint8Array, start: i32, end: i32, out: Output): void {
  let i = start;
  while (i < end) {
    const c = unchecked(s[i]);
    if (c == 0x5c /* \ */ && i + 1 < end) {
      out.append(s, i, i + 2); // keep escapes intact
      i += 2;
      continue;
    }
    const boundary = i == start || !isEmailChar(unchecked(s[i - 1]));
    if (boundary && isDigit(c)) {
      const run = cardRun(s, i, end);
      if (run > 0) {
        const digits = runDigits;
        let seen = 0;
        for (let k = i; k < i + run; k++) {
          const d = unchecked(s[k]);
          if (!isDigit(d)) continue;
          seen++;
          out.push(seen + 4 > digits ? d : 0x2a /* * */);
        }
        i += run;
        continue;
      }
    }
    const mail = boundary ? emailLen(s, i, end) : 0;
    if (mail > 0) {
      out.appendString("[email]");
      i += mail;
      continue;
    }
    out.push(c);
    i++;
  }
}

function redact(input: Uint8Array): Uint8Array | null {
  const len = input.length;
  const out = new Output(len + 16);
  let i = 0;
  while (i < len) {
    if (unchecked(input[i]) != 0x22 /* " */) {
      out.push(unchecked(input[i++]));
      continue;
    }
    let end = i + 1;
    while (end < len && unchecked(input[end]) != 0x22) end += unchecked(input[end]) == 0x5c ? 2 : 1;
    if (end >= len) {
      out.append(input, i, len); // unterminated string: the rest unchanged
      break;
    }
    let next = end + 1;
    while (next < len && (unchecked(input[next]) == 0x20 || unchecked(input[next]) == 0x09)) next++;
    const isKey = next < len && unchecked(input[next]) == 0x3a; /* : */
    out.push(0x22);
    if (isKey) {
      out.append(input, i + 1, end);
    } else {
      redactString(input, i + 1, end, out);
    }
    out.push(0x22);
    i = end + 1;
  }
  return out.finish();
}

export function wp_transform(ptr: usize, len: usize): u64 {
  return transform(ptr, len, redact);
}
