// {{name}} — a wasmplug transform plugin (scaffolded by `wasmplug new`).
//
// Adds "tagged_by":"{{name}}" to every JSON object it is given:
//
//   {"user":"ann","action":"login"}  ->  {"user":"ann","action":"login","tagged_by":"{{name}}"}
//
// A blank record is dropped; a record that is not a JSON object fails the call
// (the host reports GuestError with the message below). Replace the body of
// tag() with your own transform: the SDK reference is
// wasmplug-sdk/assembly/index.ts and wasmplug's docs/writing-plugins/assemblyscript.md.
import { Output, fail, transform } from "wasmplug-sdk/assembly";
export { wasmplug_abi_version_1, wp_alloc, wp_free } from "wasmplug-sdk/assembly";

const kTag = '"tagged_by":"{{name}}"';

function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a;
}

function tag(input: Uint8Array): Uint8Array | null {
  let begin = 0;
  let end = input.length;
  while (begin < end && isSpace(input[begin])) begin++;
  while (end > begin && isSpace(input[end - 1])) end--;
  if (begin == end) return null; // dropped
  if (end - begin < 2 || input[begin] != 0x7b || input[end - 1] != 0x7d) fail("record is not a JSON object");

  // Everything before the closing brace, without trailing blanks.
  let bodyEnd = end - 1;
  while (bodyEnd > begin + 1 && isSpace(input[bodyEnd - 1])) bodyEnd--;
  const out = new Output(end - begin + kTag.length + 2);
  out.append(input, begin, bodyEnd);
  if (bodyEnd > begin + 1) out.push(0x2c); // the object had members
  out.appendString(kTag);
  out.push(0x7d);
  return out.finish();
}

export function wp_transform(ptr: usize, len: usize): u64 {
  return transform(ptr, len, tag);
}
