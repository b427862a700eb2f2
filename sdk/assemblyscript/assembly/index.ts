// wasmplug guest SDK for AssemblyScript: the native ABI v1 (docs/abi.md).
//
// A plugin's entry file re-exports the ABI exports from here and exports the
// hooks it has, each a one-liner that hands its (ptr, len) to this SDK with a
// plain function taking the input as a Uint8Array:
//
//   import { transform } from "wasmplug-sdk/assembly";
//   export { wasmplug_abi_version_1, wp_alloc, wp_free } from "wasmplug-sdk/assembly";
//
//   function shout(input: Uint8Array): Uint8Array | null { ... }
//   export function wp_transform(ptr: usize, len: usize): u64 { return transform(ptr, len, shout); }
//
// Compile with `--use abort=wasmplug-sdk/assembly/index/abort` so that an
// AssemblyScript abort (a failed assertion, an out-of-range index, ...)
// fails the call with its message instead of importing `env.abort`, which
// the host refuses. See docs/writing-plugins/assemblyscript.md.

// @ts-ignore: decorator
@external("wasmplug", "log")
declare function host_log(level: i32, ptr: usize, len: usize): void;

// @ts-ignore: decorator
@external("wasmplug", "fail")
declare function host_fail(ptr: usize, len: usize): void;

/** Log levels of `log`, as numbered by the ABI. */
export enum Level {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** Sends a log line (UTF-8) to the host; it cuts lines past 4 KiB. */
export function log(level: Level, message: string): void {
  const bytes = String.UTF8.encode(message);
  host_log(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Sends a log line made of raw bytes. */
export function logBytes(level: Level, message: Uint8Array): void {
  host_log(level, message.dataStart, message.byteLength);
}

/** Fails the current call: the host reports GuestError with `message`. Never returns. */
export function fail(message: string): void {
  const bytes = String.UTF8.encode(message);
  host_fail(changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}

/**
 * An AssemblyScript abort (assertion, bounds check) fails the call with its
 * message. (Running out of memory does not come here: the runtime traps, and
 * the host reports MemoryLimit.)
 */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message !== null ? message : "abort";
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  fail(text);
}

/** The ABI marker; the host never calls it. */
export function wasmplug_abi_version_1(): void {}

// Every buffer handed to the host is a pinned ArrayBuffer: the hook then
// wraps it without a copy and unpins it, so the garbage collector (if the
// runtime has one) reclaims it like any other object.
const kAlign: usize = 16;

/** wp_alloc(len, align): a 16-byte aligned buffer of `len` bytes, or 0. */
export function wp_alloc(len: usize, align: usize): usize {
  if (align > kAlign || len > 0x3FFFFFF0) return 0;
  const buffer = __new(len, idof<ArrayBuffer>());
  if (buffer & (kAlign - 1)) return 0;
  return __pin(buffer);
}

/** wp_free(ptr, len, align): gives back a buffer from wp_alloc. */
export function wp_free(ptr: usize, len: usize, align: usize): void {
  if (ptr != 0) __unpin(ptr);
}

function takeInput(ptr: usize, len: usize): Uint8Array {
  if (ptr == 0) return new Uint8Array(0);
  __unpin(ptr);
  return Uint8Array.wrap(changetype<ArrayBuffer>(ptr), 0, <i32>len);
}

// The last transform output: the host reads it after the call returns, so a
// global keeps it alive until the next transform replaces it.
let lastOutput: Uint8Array | null = null;

/** A transform hook: returns the output, or null to drop the input. */
export type TransformFn = (input: Uint8Array) => Uint8Array | null;
/** A filter hook: true keeps the input. */
export type FilterFn = (input: Uint8Array) => bool;
/** An observe hook: side effects only. */
export type ObserveFn = (input: Uint8Array) => void;
/** An init hook: receives the config; true accepts it, false rejects it (GuestError in phase init). */
export type InitFn = (config: Uint8Array) => bool;
/** A shutdown hook (warm instance retired): true is ok. */
export type ShutdownFn = () => bool;

/** Body of `wp_transform`: runs `fn` on the input and returns the packed output. */
export function transform(ptr: usize, len: usize, fn: TransformFn): u64 {
  lastOutput = null;
  const out = fn(takeInput(ptr, len));
  if (out === null) return 0;
  lastOutput = out;
  return (<u64>out.dataStart << 32) | <u64>out.byteLength;
}

/** Body of `wp_filter`. */
export function filter(ptr: usize, len: usize, fn: FilterFn): i32 {
  return fn(takeInput(ptr, len)) ? 1 : 0;
}

/** Body of `wp_observe`. */
export function observe(ptr: usize, len: usize, fn: ObserveFn): void {
  fn(takeInput(ptr, len));
}

/** Body of `wp_init`. */
export function init(ptr: usize, len: usize, fn: InitFn): i32 {
  return fn(takeInput(ptr, len)) ? 0 : 1;
}

/** Body of `wp_shutdown`. */
export function shutdown(fn: ShutdownFn): i32 {
  return fn() ? 0 : 1;
}

/** A growable byte buffer for building outputs. */
export class Output {
  private data: Uint8Array;
  private len: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.data = new Uint8Array(max(capacity, 16));
  }

  get length(): i32 {
    return this.len;
  }

  private reserve(extra: i32): void {
    const need = this.len + extra;
    if (need <= this.data.length) return;
    const grown = new Uint8Array(max(need, this.data.length * 2));
    memory.copy(grown.dataStart, this.data.dataStart, <usize>this.len);
    this.data = grown;
  }

  /** Appends one byte. */
  push(byte: u8): void {
    this.reserve(1);
    unchecked((this.data[this.len++] = byte));
  }

  /** Appends bytes [start, end) of `src`. */
  append(src: Uint8Array, start: i32 = 0, end: i32 = i32.MAX_VALUE): void {
    end = min(end, src.length);
    if (start < 0 || start >= end) return;
    const n = end - start;
    this.reserve(n);
    memory.copy(this.data.dataStart + <usize>this.len, src.dataStart + <usize>start, <usize>n);
    this.len += n;
  }

  /** Appends a string as UTF-8. */
  appendString(text: string): void {
    this.append(Uint8Array.wrap(String.UTF8.encode(text)));
  }

  /** The bytes written so far (a view; valid until the next append). */
  finish(): Uint8Array {
    return this.data.subarray(0, this.len);
  }
}

/** The bytes of a string as UTF-8. */
export function bytesOf(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

/** True if `bytes` equal the ASCII/UTF-8 text `text`. */
export function bytesEqual(bytes: Uint8Array, start: i32, end: i32, text: string): bool {
  const t = String.UTF8.encode(text);
  const n = t.byteLength;
  if (end - start != n || start < 0 || end > bytes.length) return false;
  return memory.compare(bytes.dataStart + <usize>start, changetype<usize>(t), <usize>n) == 0;
}
