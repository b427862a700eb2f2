//! A bare Rust host on the `wasmtime` crate (the same 48.0.8 wasmplug links),
//! running the SDK's C uppercase guest the way a hand-written embedder would.
//! bench/peers/run.sh runs it beside wasmplug on the same guest and input.
//!
//!   peer_rust GUEST.wasm MODE CALLS
//!
//! MODE: `warm` (one instance reused: re-arm the epoch deadline, wp_alloc,
//! write, wp_transform, read), `fresh` (a new store per call, instantiated
//! from an InstancePre on the pooling allocator tuned as wasmplug's engine:
//! the tuned way), `warm-loop` (warm calls without timers, for callgrind),
//! `fresh-seed` (the cc-lb seed's way: a new store per call,
//! Linker::instantiate on the default allocator, exports looked up by name),
//! `warm-threads` / `fresh-threads` (CALLS = number of threads, each calling
//! for PEER_THREAD_SECONDS (2) s: warm = each thread its own store and
//! instance on the shared engine, fresh = every thread instantiating from the
//! shared InstancePre, as wasmplug_peer's modes of the same name).
//!
//! Prints one line: `NAME p50_ns p99_ns p999_ns mean_ns failures calls`
//! (thread modes: `NAME threads=N calls_per_s=.. cpu_per_wall=.. failures=.. calls=..`).
//! Per-call times come from the TSC; the median cost of an empty TSC pair is
//! subtracted (the same is done on every host in bench/peers/).
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{
    Caller, Config, Engine, Extern, InstancePre, Linker, Memory, Module, ModuleExport, PoolingAllocationConfig,
    Store, TypedFunc,
};

const INPUT: &[u8; 64] = b"{\"id\":42,\"user\":\"ann\",\"level\":\"info\",\"msg\":\"hello wasm plug!!!\"}";
const ALIGN: i32 = 16;
const DEADLINE_TICKS: u64 = 1000; // 1 s at a 1 ms tick, as wasmplug's default

#[derive(Default)]
struct Host {
    memory: Option<Memory>,
    logged: usize,
}

fn tsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86_64.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn ns_per_tick() -> f64 {
    let (t0, c0) = (Instant::now(), tsc());
    std::thread::sleep(Duration::from_millis(20));
    let (t1, c1) = (Instant::now(), tsc());
    (t1 - t0).as_nanos() as f64 / (c1 - c0) as f64
}

fn timer_overhead_ticks() -> u64 {
    let mut v: Vec<u64> = (0..10_000)
        .map(|_| {
            let a = tsc();
            let b = tsc();
            b - a
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

fn engine(tuned: bool) -> Engine {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.max_wasm_stack(512 << 10);
    if tuned {
        // wasmplug's defaults (src/engine/engine.cpp, RuntimeConfig).
        config.memory_init_cow(true);
        config.memory_may_move(false);
        // PEER_MAX_INSTANCES: fewer slots for valgrind, which cannot reserve
        // 256 slots' address space (run.sh sets it for both hosts alike).
        let slots: u32 = std::env::var("PEER_MAX_INSTANCES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(slots)
            .total_memories(slots)
            .total_tables(slots)
            .total_gc_heaps(slots)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(64 << 20)
            .table_elements(20_000)
            .linear_memory_keep_resident(128 << 10)
            .table_keep_resident(16 << 10);
        config.allocation_strategy(pool);
    }
    Engine::new(&config).expect("engine")
}

fn memory_of(caller: &mut Caller<'_, Host>) -> Option<Memory> {
    if caller.data().memory.is_none() {
        let m = caller.get_export("memory").and_then(Extern::into_memory);
        caller.data_mut().memory = m;
    }
    caller.data().memory
}

fn linker(engine: &Engine) -> Linker<Host> {
    let mut linker = Linker::new(engine);
    // The SDK's imports: a log line (read, bounds-checked, counted and dropped,
    // as wasmplug with a no-op log sink) and fail.
    linker
        .func_wrap("wasmplug", "log", |mut caller: Caller<'_, Host>, _level: i32, ptr: i32, len: i32| {
            let memory = memory_of(&mut caller).ok_or_else(|| wasmtime::Error::msg("no memory"))?;
            let bytes = memory
                .data(&caller)
                .get(ptr as u32 as usize..(ptr as u32 as usize).saturating_add(len as u32 as usize))
                .ok_or_else(|| wasmtime::Error::msg("log: out of bounds"))?;
            let n = black_box(bytes).len();
            caller.data_mut().logged += n;
            Ok(())
        })
        .unwrap();
    linker
        .func_wrap("wasmplug", "fail", |_caller: Caller<'_, Host>, _ptr: i32, _len: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::msg("guest failed"))
        })
        .unwrap();
    linker
}

fn ticker(engine: &Engine) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let (engine, flag) = (engine.clone(), stop.clone());
    std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
            engine.increment_epoch();
        }
    });
    stop
}

/// One round trip on an instance: alloc, write, transform, read.
fn round_trip(
    store: &mut Store<Host>,
    memory: Memory,
    alloc: &TypedFunc<(i32, i32), i32>,
    transform: &TypedFunc<(i32, i32), i64>,
) -> wasmtime::Result<Vec<u8>> {
    let ptr = alloc.call(&mut *store, (INPUT.len() as i32, ALIGN))?;
    if ptr == 0 || ptr % ALIGN != 0 {
        wasmtime::bail!("wp_alloc returned {ptr}");
    }
    memory.write(&mut *store, ptr as u32 as usize, INPUT)?;
    let packed = transform.call(&mut *store, (ptr, INPUT.len() as i32))? as u64;
    let (out_ptr, out_len) = ((packed >> 32) as usize, (packed & 0xFFFF_FFFF) as usize);
    let out = memory
        .data(&*store)
        .get(out_ptr..out_ptr + out_len)
        .ok_or_else(|| wasmtime::Error::msg("output out of bounds"))?
        .to_vec();
    Ok(out)
}

/// The process's user + system CPU seconds (getrusage(RUSAGE_SELF)), declared
/// here rather than adding the libc crate for one call.
fn cpu_seconds() -> f64 {
    #[repr(C)]
    struct Rusage {
        utime: [i64; 2],
        stime: [i64; 2],
        rest: [i64; 14],
    }
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    let mut r = Rusage { utime: [0; 2], stime: [0; 2], rest: [0; 14] };
    // SAFETY: RUSAGE_SELF (0) and a struct rusage-sized, writable buffer.
    let rc = unsafe { getrusage(0, &mut r) };
    assert_eq!(rc, 0, "getrusage");
    let s = |t: [i64; 2]| t[0] as f64 + t[1] as f64 / 1e6;
    s(r.utime) + s(r.stime)
}

/// `threads` threads, each with its own call made by `make_call` on the
/// thread, call for `seconds`; the same loop and output as wasmplug_peer's
/// run_threads.
fn run_threads<F, C>(name: &str, threads: usize, seconds: f64, make_call: F)
where
    F: Fn() -> C + Sync,
    C: FnMut() -> bool,
{
    let stop = AtomicBool::new(false);
    let ready = AtomicUsize::new(0);
    let total = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let (wall, cpu) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut call = make_call();
                    black_box(call());
                    ready.fetch_add(1, Ordering::SeqCst);
                    while ready.load(Ordering::SeqCst) != threads + 1 {
                        std::thread::yield_now();
                    }
                    let (mut n, mut bad) = (0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..64 {
                            bad += u64::from(!call());
                        }
                        n += 64;
                    }
                    total.fetch_add(n, Ordering::SeqCst);
                    failures.fetch_add(bad, Ordering::SeqCst);
                })
            })
            .collect();
        // Time from when every thread has made its instance to when they all stopped.
        while ready.load(Ordering::SeqCst) != threads {
            std::thread::yield_now();
        }
        let (t0, c0) = (Instant::now(), cpu_seconds());
        ready.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.join().expect("worker");
        }
        (t0.elapsed().as_secs_f64(), cpu_seconds() - c0)
    });
    let (total, failures) = (total.load(Ordering::SeqCst), failures.load(Ordering::SeqCst));
    println!(
        "{name} threads={threads} calls_per_s={:.0} cpu_per_wall={:.2} failures={failures} calls={total}",
        total as f64 / wall,
        cpu / wall
    );
}

fn thread_seconds() -> f64 {
    std::env::var("PEER_THREAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2.0)
}

/// A warm instance of the guest on its own store: `_initialize` and `wp_init`
/// run; returns the call that re-arms the deadline and makes one round trip.
fn warm_instance(engine: &Engine, linker: &Linker<Host>, module: &Module) -> impl FnMut() -> bool + use<> {
    let mut store = Store::new(engine, Host::default());
    store.set_epoch_deadline(DEADLINE_TICKS);
    let instance = linker.instantiate(&mut store, module).expect("instantiate");
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    store.data_mut().memory = Some(memory);
    instance.get_typed_func::<(), ()>(&mut store, "_initialize").unwrap().call(&mut store, ()).unwrap();
    let rc = instance.get_typed_func::<(i32, i32), i32>(&mut store, "wp_init").unwrap().call(&mut store, (0, 0));
    assert_eq!(rc.unwrap(), 0);
    let alloc = instance.get_typed_func::<(i32, i32), i32>(&mut store, "wp_alloc").unwrap();
    let transform = instance.get_typed_func::<(i32, i32), i64>(&mut store, "wp_transform").unwrap();
    move || {
        store.set_epoch_deadline(DEADLINE_TICKS);
        check(round_trip(&mut store, memory, &alloc, &transform))
    }
}

struct Exports {
    memory: ModuleExport,
    initialize: ModuleExport,
    init: ModuleExport,
    alloc: ModuleExport,
    transform: ModuleExport,
}

fn fresh_tuned(pre: &InstancePre<Host>, engine: &Engine, ex: &Exports) -> wasmtime::Result<Vec<u8>> {
    let mut store = Store::new(engine, Host::default());
    store.set_epoch_deadline(DEADLINE_TICKS);
    let instance = pre.instantiate(&mut store)?;
    let func = |store: &mut Store<Host>, e: &ModuleExport| {
        instance.get_module_export(&mut *store, e).and_then(Extern::into_func).ok_or_else(|| wasmtime::Error::msg("export"))
    };
    let memory = instance
        .get_module_export(&mut store, &ex.memory)
        .and_then(Extern::into_memory)
        .ok_or_else(|| wasmtime::Error::msg("memory"))?;
    store.data_mut().memory = Some(memory);
    func(&mut store, &ex.initialize)?.typed::<(), ()>(&store)?.call(&mut store, ())?;
    let rc = func(&mut store, &ex.init)?.typed::<(i32, i32), i32>(&store)?.call(&mut store, (0, 0))?;
    if rc != 0 {
        wasmtime::bail!("wp_init returned {rc}");
    }
    let alloc = func(&mut store, &ex.alloc)?.typed::<(i32, i32), i32>(&store)?;
    let transform = func(&mut store, &ex.transform)?.typed::<(i32, i32), i64>(&store)?;
    round_trip(&mut store, memory, &alloc, &transform)
}

fn fresh_seed(linker: &Linker<Host>, engine: &Engine, module: &Module) -> wasmtime::Result<Vec<u8>> {
    let mut store = Store::new(engine, Host::default());
    store.set_epoch_deadline(DEADLINE_TICKS);
    let instance = linker.instantiate(&mut store, module)?;
    let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| wasmtime::Error::msg("memory"))?;
    instance.get_typed_func::<(), ()>(&mut store, "_initialize")?.call(&mut store, ())?;
    let rc = instance.get_typed_func::<(i32, i32), i32>(&mut store, "wp_init")?.call(&mut store, (0, 0))?;
    if rc != 0 {
        wasmtime::bail!("wp_init returned {rc}");
    }
    let alloc = instance.get_typed_func::<(i32, i32), i32>(&mut store, "wp_alloc")?;
    let transform = instance.get_typed_func::<(i32, i32), i64>(&mut store, "wp_transform")?;
    round_trip(&mut store, memory, &alloc, &transform)
}

fn check(out: wasmtime::Result<Vec<u8>>) -> bool {
    const EXPECTED: [u8; 64] = {
        let mut e = *INPUT;
        let mut i = 0;
        while i < e.len() {
            e[i] = e[i].to_ascii_uppercase();
            i += 1;
        }
        e
    };
    matches!(out, Ok(bytes) if bytes[..] == EXPECTED[..])
}

fn measure(name: &str, calls: usize, mut call: impl FnMut() -> bool) {
    for _ in 0..calls / 10 {
        black_box(call()); // warm-up
    }
    let overhead = timer_overhead_ticks();
    let mut ticks = Vec::with_capacity(calls);
    let mut failures = 0usize;
    let t0 = Instant::now();
    for _ in 0..calls {
        let a = tsc();
        let ok = call();
        let b = tsc();
        ticks.push((b - a).saturating_sub(overhead));
        failures += usize::from(!ok);
    }
    let total = t0.elapsed();
    ticks.sort_unstable();
    let k = ns_per_tick();
    let at = |q: f64| ticks[((ticks.len() - 1) as f64 * q) as usize] as f64 * k;
    // The mean of the per-call samples up to p99.9 (as every host here): on a
    // VM that deschedules the process for milliseconds, a wall-clock mean
    // measures the scheduler.
    let _ = total;
    let kept = (ticks.len() * 999 / 1000).max(1);
    let mean = ticks[..kept].iter().map(|&t| t as f64).sum::<f64>() / kept as f64 * k;
    println!("{name} {:.1} {:.1} {:.1} {:.1} {failures} {calls}", at(0.50), at(0.99), at(0.999), mean);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: {} GUEST.wasm warm|warm-loop|fresh|fresh-seed|warm-threads|fresh-threads CALLS", args[0]);
        std::process::exit(2);
    }
    let bytes = std::fs::read(&args[1]).unwrap_or_else(|e| {
        eprintln!("{}: {e}", args[1]);
        std::process::exit(1)
    });
    let calls: usize = args[3].parse().expect("CALLS must be a number");
    let mode = args[2].as_str();
    let engine = engine(mode != "fresh-seed");
    let _ticker = ticker(&engine);
    let module = Module::new(&engine, &bytes).expect("compile");
    let linker = linker(&engine);
    match mode {
        "warm" | "warm-loop" => {
            let mut call = warm_instance(&engine, &linker, &module);
            if mode == "warm-loop" {
                // No timers: for callgrind's instruction counts.
                let failures = (0..calls).filter(|_| !call()).count();
                println!("rust_warm_loop {failures} failures of {calls}");
            } else {
                measure("rust_warm", calls, call);
            }
        }
        "warm-threads" => {
            run_threads("rust_warm_threads", calls, thread_seconds(), || warm_instance(&engine, &linker, &module));
        }
        "fresh" | "fresh-threads" => {
            let pre = linker.instantiate_pre(&module).expect("instantiate_pre");
            let e = |name: &str| module.get_export_index(name).expect(name);
            let ex = Exports {
                memory: e("memory"),
                initialize: e("_initialize"),
                init: e("wp_init"),
                alloc: e("wp_alloc"),
                transform: e("wp_transform"),
            };
            if mode == "fresh-threads" {
                let (pre, engine, ex) = (&pre, &engine, &ex);
                run_threads("rust_fresh_threads", calls, thread_seconds(), move || {
                    move || check(fresh_tuned(pre, engine, ex))
                });
            } else {
                measure("rust_fresh", calls, || check(fresh_tuned(&pre, &engine, &ex)));
            }
        }
        "fresh-seed" => {
            measure("rust_fresh_seed", calls, || check(fresh_seed(&linker, &engine, &module)));
        }
        other => {
            eprintln!("unknown mode {other}: warm, warm-loop, fresh, fresh-seed, warm-threads or fresh-threads");
            std::process::exit(2);
        }
    }
}
