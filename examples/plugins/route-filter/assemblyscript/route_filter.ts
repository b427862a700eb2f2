// route-filter — keeps events whose top-level "level" is at or above a
// configured level. The same logic as examples/plugins/route-filter/route_filter.c.
//
// Config (init): one of trace, debug, info, warn, error, fatal (default info);
// anything else is rejected with a log line naming the allowed values. Events
// without a known "level" string are dropped. Input that is not a JSON object
// fails the call.
import { Level, Output, bytesEqual, fail, filter, init, log } from "wasmplug-sdk/assembly";
export { wasmplug_abi_version_1, wp_alloc, wp_free } from "wasmplug-sdk/assembly";

const kLevels: string[] = ["trace", "debug", "info", "warn", "error", "fatal"];
let threshold = 2; // info

function levelOf(s: Uint8Array, start: i32, end: i32): i32 {
  for (let i = 0; i < kLevels.length; i++) {
    if (bytesEqual(s, start, end, kLevels[i])) return i;
  }
  return -1;
}

function configure(config: Uint8Array): bool {
  let len = config.length;
  while (len > 0 && (config[len - 1] == 0x0a || config[len - 1] == 0x20)) len--;
  if (len == 0) return true;
  const level = levelOf(config, 0, len);
  if (level < 0) {
    log(Level.Error, "route-filter: config must be one of trace, debug, info, warn, error, fatal");
    return false;
  }
  threshold = level;
  return true;
}

// A small scanner for the top level of a JSON object: keys are compared as
// written and the first of duplicate keys wins, as with the C SDK's
// wp_json_get; the CLI has already checked that each record is well-formed
// JSON. Functions return an index, or -1.
function ws(s: Uint8Array, i: i32): i32 {
  while (i < s.length) {
    const c = s[i];
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    i++;
  }
  return i;
}

// Index just past the string starting at s[i] == '"'.
function skipString(s: Uint8Array, i: i32): i32 {
  for (i++; i < s.length; i++) {
    if (s[i] == 0x5c) {
      i++;
    } else if (s[i] == 0x22) {
      return i + 1;
    }
  }
  return -1;
}

// Index just past the value starting at s[i].
function skipValue(s: Uint8Array, i: i32): i32 {
  if (i >= s.length) return -1;
  const first = s[i];
  if (first == 0x22) return skipString(s, i);
  if (first == 0x7b || first == 0x5b) {
    let depth = 0;
    while (i < s.length) {
      const c = s[i];
      if (c == 0x22) {
        i = skipString(s, i);
        if (i < 0) return -1;
        continue;
      }
      if (c == 0x7b || c == 0x5b) depth++;
      if (c == 0x7d || c == 0x5d) {
        if (--depth == 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  const start = i;
  while (i < s.length) {
    const c = s[i];
    if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x20 || c == 0x0a) break;
    i++;
  }
  return i > start ? i : -1;
}

// Finds top-level `key`: 1 found (the value token in valueStart/valueEnd,
// strings with their quotes), 0 absent, -1 not a JSON object.
let valueStart = 0;
let valueEnd = 0;
function find(s: Uint8Array, key: string): i32 {
  let found = 0;
  let i = ws(s, 0);
  if (i >= s.length || s[i] != 0x7b) return -1;
  i = ws(s, i + 1);
  if (i < s.length && s[i] == 0x7d) return 0;
  while (i < s.length) {
    if (s[i] != 0x22) return -1;
    const keyEnd = skipString(s, i);
    if (keyEnd < 0) return -1;
    const match = found == 0 && bytesEqual(s, i + 1, keyEnd - 1, key);
    i = ws(s, keyEnd);
    if (i >= s.length || s[i] != 0x3a) return -1;
    i = ws(s, i + 1);
    const end = skipValue(s, i);
    if (end < 0) return -1;
    if (match) {
      valueStart = i;
      valueEnd = end;
      found = 1;
    }
    i = ws(s, end);
    if (i < s.length && s[i] == 0x2c) {
      i = ws(s, i + 1);
      continue;
    }
    if (i < s.length && s[i] == 0x7d) return found;
    return -1;
  }
  return -1;
}

function hexDigit(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

// The decoded text of the string body s[start, end) if it is all ASCII
// ("w\u0061rn" is warn); null otherwise, which never equals a level name.
function unescapeAscii(s: Uint8Array, start: i32, end: i32): Uint8Array | null {
  const out = new Output(end - start);
  let i = start;
  while (i < end) {
    const c = s[i++];
    if (c >= 0x80) return null;
    if (c != 0x5c) {
      out.push(c);
      continue;
    }
    if (i >= end) return null;
    const e = s[i++];
    if (e == 0x22 || e == 0x5c || e == 0x2f) out.push(e);
    else if (e == 0x62) out.push(8);
    else if (e == 0x66) out.push(12);
    else if (e == 0x6e) out.push(10);
    else if (e == 0x72) out.push(13);
    else if (e == 0x74) out.push(9);
    else if (e == 0x75) {
      if (i + 4 > end) return null;
      let code = 0;
      for (let k = 0; k < 4; k++) {
        const d = hexDigit(s[i + k]);
        if (d < 0) return null;
        code = code * 16 + d;
      }
      i += 4;
      if (code >= 0x80) return null;
      out.push(<u8>code);
    } else return null;
  }
  return out.finish();
}

function keep(input: Uint8Array): bool {
  const found = find(input, "level");
  if (found < 0) fail("route-filter: the record is not a JSON object");
  if (found == 0 || valueEnd - valueStart < 2 || input[valueStart] != 0x22) return false;
  const text = unescapeAscii(input, valueStart + 1, valueEnd - 1);
  return text !== null && levelOf(text, 0, text.length) >= threshold;
}

export function wp_init(ptr: usize, len: usize): i32 {
  return init(ptr, len, configure);
}

export function wp_filter(ptr: usize, len: usize): i32 {
  return filter(ptr, len, keep);
}
