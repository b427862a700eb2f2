// A probe of the AssemblyScript SDK (sdk/assemblyscript) for the tests: every
// hook, and each way a hook can end, chosen by the input (the same commands as
// tests/guests/rust/sdk_probe).
import { Level, Output, bytesEqual, fail, filter, init, log, logBytes, observe, transform } from "wasmplug-sdk/assembly";
export { wasmplug_abi_version_1, wp_alloc, wp_free } from "wasmplug-sdk/assembly";

let kept: Uint8Array = new Uint8Array(0);

function is(input: Uint8Array, text: string): bool {
  return bytesEqual(input, 0, input.length, text);
}

function startsWith(input: Uint8Array, text: string): bool {
  return input.length >= text.length && bytesEqual(input, 0, text.length, text);
}

function probe(input: Uint8Array): Uint8Array | null {
  if (input.length == 0) return new Uint8Array(0);
  if (is(input, "drop")) return null;
  if (is(input, "panic")) assert(false, "probe panicked");
  if (is(input, "err") || is(input, "fail")) fail(is(input, "err") ? "probe error" : "probe failed");
  if (is(input, "index")) {
    const out = new Uint8Array(1);
    out[0] = input[input.length * 1000];
    return out;
  }
  if (is(input, "log")) log(Level.Warn, "probe log");
  if (startsWith(input, "grow:")) {
    const n = I32.parseInt(String.UTF8.decode(input.slice(5).buffer));
    const out = new Output(16);
    for (let i = 0; i < n; i++) out.push(0x78);
    return out.finish();
  }
  if (startsWith(input, "hog:")) {
    const n = I32.parseInt(String.UTF8.decode(input.slice(4).buffer));
    const chunks = new Array<Uint8Array>();
    for (let i = 0; i < n / 65536; i++) chunks.push(new Uint8Array(65536));
    return new Uint8Array(chunks.length > 0 ? 0 : 0);
  }
  if (startsWith(input, "keep:")) {
    kept = input.slice(5);
    return new Uint8Array(0);
  }
  if (is(input, "kept")) return kept;
  return input;
}

function keep(input: Uint8Array): bool {
  if (is(input, "err")) fail("probe filter error");
  return input.length > 0 && input[0] == 0x6b;
}

function watch(input: Uint8Array): void {
  logBytes(Level.Info, input);
}

function configure(config: Uint8Array): bool {
  if (is(config, "reject")) {
    log(Level.Error, "probe: config rejected");
    return false;
  }
  return true;
}

export function wp_transform(ptr: usize, len: usize): u64 {
  return transform(ptr, len, probe);
}
export function wp_filter(ptr: usize, len: usize): i32 {
  return filter(ptr, len, keep);
}
export function wp_observe(ptr: usize, len: usize): void {
  observe(ptr, len, watch);
}
export function wp_init(ptr: usize, len: usize): i32 {
  return init(ptr, len, configure);
}
