// Node.js/V8 peer (WebAssembly JS API) for bench/peers/run.sh.
//
//   node node_host.mjs upper GUEST.wasm MODE CALLS     MODE: warm | fresh
//   node node_host.mjs kestrel GUEST.wasm CALLS
//
// upper: the SDK's C uppercase guest, the same 64-byte input as every peer:
// warm = one instance (wp_alloc, write, wp_transform, read a copy), fresh = a
// new instance per call from the compiled module (_initialize, wp_init, then
// the round trip). kestrel: pred_eval of tests/guests/c/kestrel_3fields.c on
// the event of bench/kestrel_bench.cpp (13 fields, 3 read).
//
// Prints `NAME p50_ns p99_ns p999_ns mean_ns failures calls`. Per-call times
// from process.hrtime.bigint() minus the median cost of an empty timer pair;
// the mean is over the per-call samples up to p99.9.
import { readFileSync } from 'node:fs';

const INPUT = new TextEncoder().encode('{"id":42,"user":"ann","level":"info","msg":"hello wasm plug!!!"}');
if (INPUT.length !== 64) throw new Error(`input is ${INPUT.length} bytes, not 64`);
const EXPECTED = new TextEncoder().encode(new TextDecoder().decode(INPUT).toUpperCase());

function timerOverhead() {
  const v = [];
  for (let i = 0; i < 10000; i++) {
    const a = process.hrtime.bigint();
    const b = process.hrtime.bigint();
    v.push(Number(b - a));
  }
  v.sort((x, y) => x - y);
  return v[v.length >> 1];
}

function measure(name, calls, call) {
  for (let i = 0; i < calls / 10; i++) call(); // warm-up (JIT tiers)
  const overhead = timerOverhead();
  // Mean without per-call timers.
  let failures = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) if (!call()) failures++;
  const mean = Number(process.hrtime.bigint() - t0) / calls;
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const a = process.hrtime.bigint();
    const ok = call();
    const b = process.hrtime.bigint();
    samples[i] = Math.max(0, Number(b - a) - overhead);
    if (!ok) failures++;
  }
  samples.sort();
  const at = (q) => samples[Math.floor((calls - 1) * q)];
  // The mean of the per-call samples up to p99.9, as every host here (a
  // wall-clock mean on a VM that deschedules the process measures the scheduler).
  const kept = Math.max(1, Math.floor((calls * 999) / 1000));
  let sum = 0;
  for (let i = 0; i < kept; i++) sum += samples[i];
  const trimmed = sum / kept;
  console.log(`${name} ${at(0.5).toFixed(1)} ${at(0.99).toFixed(1)} ${at(0.999).toFixed(1)} ${trimmed.toFixed(1)} ${failures} ${2 * calls}`);
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function upper(path, mode, calls) {
  const module = new WebAssembly.Module(readFileSync(path));
  let memory = null;
  const imports = {
    wasmplug: {
      // Bounds-checked read of the line, dropped (wasmplug runs with a no-op log sink).
      log: (_level, ptr, len) => {
        if (ptr + len > memory.buffer.byteLength) throw new Error('log: out of bounds');
        new Uint8Array(memory.buffer, ptr, len);
      },
      fail: () => {
        throw new Error('guest failed');
      },
    },
  };
  const roundTrip = (ex) => {
    const ptr = ex.wp_alloc(INPUT.length, 16);
    if (ptr === 0 || ptr % 16 !== 0) return null;
    new Uint8Array(memory.buffer, ptr, INPUT.length).set(INPUT);
    const packed = BigInt.asUintN(64, ex.wp_transform(ptr, INPUT.length));
    const outPtr = Number(packed >> 32n);
    const outLen = Number(packed & 0xffffffffn);
    if (outPtr + outLen > memory.buffer.byteLength) return null;
    return new Uint8Array(memory.buffer, outPtr, outLen).slice();
  };
  const start = () => {
    const instance = new WebAssembly.Instance(module, imports);
    memory = instance.exports.memory;
    instance.exports._initialize();
    if (instance.exports.wp_init(0, 0) !== 0) throw new Error('wp_init failed');
    return instance.exports;
  };
  const guarded = (f) => () => {
    try {
      const out = f();
      return out !== null && sameBytes(out, EXPECTED);
    } catch {
      return false;
    }
  };
  if (mode === 'warm') {
    const ex = start();
    measure('node_warm', calls, guarded(() => roundTrip(ex)));
  } else if (mode === 'fresh') {
    measure('node_fresh', calls, guarded(() => roundTrip(start())));
  } else {
    throw new Error(`unknown mode ${mode}: warm or fresh`);
  }
}

function kestrel(path, calls) {
  const module = new WebAssembly.Module(readFileSync(path));
  // The event: ids 10..19 are i64, 1 = "/usr/bin/bash", 2 = 4242, 5 = true.
  const event = new Map();
  for (let id = 10; id < 20; id++) event.set(id, BigInt(id));
  event.set(1, new TextEncoder().encode('/usr/bin/bash'));
  event.set(2, 4242n);
  event.set(5, true);
  let memory = null;
  const bytes = () => new Uint8Array(memory.buffer);
  const inBounds = (p, n) => p >= 0 && n >= 0 && p + n <= memory.buffer.byteLength;
  const env = {
    event_get_i64: (id) => {
      const v = event.get(id);
      return typeof v === 'bigint' ? v : 0n;
    },
    event_get_bool: (id) => (event.get(id) === true ? 1 : 0),
    event_get_str: (id, buf) => {
      const v = event.get(id);
      if (!(v instanceof Uint8Array) || v.length === 0) return 0;
      if (!inBounds(buf, v.length)) throw new Error('event_get_str: out of bounds');
      bytes().set(v, buf);
      return v.length;
    },
    string_ends_with: (s, sl, p, pl) => {
      if (!inBounds(s, sl) || !inBounds(p, pl)) throw new Error('string_ends_with: out of bounds');
      if (pl > sl) return 0;
      const m = bytes();
      for (let i = 0; i < pl; i++) if (m[s + sl - pl + i] !== m[p + i]) return 0;
      return 1;
    },
  };
  const instance = new WebAssembly.Instance(module, { env });
  memory = instance.exports.memory;
  if (instance.exports._initialize) instance.exports._initialize();
  const pred = instance.exports.pred_eval;
  measure('node_kestrel', calls, () => {
    try {
      return pred() === 1;
    } catch {
      return false;
    }
  });
}

const [what, path, a, b] = process.argv.slice(2);
if (what === 'upper') upper(path, a, Number(b));
else if (what === 'kestrel') kestrel(path, Number(a));
else {
  console.error('usage: node node_host.mjs upper GUEST.wasm warm|fresh CALLS | kestrel GUEST.wasm CALLS');
  process.exit(2);
}
