//! world transform written with std: it prints to stdout and stderr, reads
//! the clocks, random and the environment, so the component imports WASI 0.2
//! (wasi:cli/*, wasi:io/*, wasi:clocks/*, wasi:random/*, wasi:filesystem/*,
//! ...). Admission must refuse it unless the embedder grants WASI; granted,
//! the payload says what to do:
//!   "open:PATH"    tries to open PATH; emits "open failed: ERROR" (no preopens)
//!   "connect:ADDR" tries a TCP connection; emits "connect failed: ERROR"
//!   "sleep:SECS"   sleeps (a clock wait the host must end by the deadline)
//!   anything else  prints a line to stdout and one to stderr, emits the payload
//! Emitting "opened ..." / "connected ..." means the host let it through.

wit_bindgen::generate!({ world: "transform", path: "../../../../wit/torvyn-streaming" });

use exports::torvyn::streaming::processor::Guest;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{ElementMeta, OutputElement, ProcessError, ProcessResult, StreamElement};

struct WasiStd;

fn emit(meta: ElementMeta, text: &str) -> Result<ProcessResult, ProcessError> {
    let out = buffer_allocator::allocate(text.len() as u64)
        .map_err(|e| ProcessError::Internal(format!("allocate: {e:?}")))?;
    out.append(text.as_bytes()).map_err(|e| ProcessError::Internal(format!("append: {e:?}")))?;
    Ok(ProcessResult::Emit(OutputElement { meta, payload: out.freeze() }))
}

impl Guest for WasiStd {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let text = String::from_utf8_lossy(&input.payload.read_all()).into_owned();
        if let Some(path) = text.strip_prefix("open:") {
            return match std::fs::File::open(path) {
                Ok(_) => emit(input.meta, &format!("opened {path}")),
                Err(e) => emit(input.meta, &format!("open failed: {e}")),
            };
        }
        if let Some(addr) = text.strip_prefix("connect:") {
            return match std::net::TcpStream::connect(addr) {
                Ok(_) => emit(input.meta, &format!("connected {addr}")),
                Err(e) => emit(input.meta, &format!("connect failed: {e}")),
            };
        }
        if let Some(secs) = text.strip_prefix("sleep:") {
            std::thread::sleep(Duration::from_secs(secs.parse().unwrap_or(1)));
            return emit(input.meta, "slept");
        }
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let started = std::time::Instant::now();
        // RandomState's keys come from WASI random.
        let random = RandomState::new().hash_one(&text);
        println!("wasi_std: {} bytes at unix time {unix}", input.payload.size());
        eprintln!(
            "wasi_std stderr: HOME={:?} args={} random={random:x} monotonic={:?}",
            std::env::var("HOME").ok(),
            std::env::args().count(),
            started.elapsed() < Duration::from_secs(60)
        );
        let copy = buffer_allocator::clone_into_mutable(input.payload)
            .map_err(|e| ProcessError::Internal(format!("clone-into-mutable: {e:?}")))?;
        Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: copy.freeze() }))
    }
}

export!(WasiStd);
