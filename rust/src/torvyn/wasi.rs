//! The WASI 0.2 grant (torvyn::ComponentOptions::wasi): wasmtime-wasi's p2
//! implementation, scoped. No preopens, no environment, no arguments, empty
//! stdin, no network (TCP, UDP and name lookup denied); clocks and random
//! allowed. stdout and stderr go to a bounded capture the C++ side turns into
//! log records after each call. Blocking on a clock cannot outlive the call's
//! deadline: the two monotonic-clock subscriptions are clamped to it.

use super::host::HostState;
use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncWrite;
use wasmtime::component::{Linker, Resource};
use wasmtime::StoreContextMut;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::clocks::WasiClocksView;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Largest `get-random-bytes` / `get-insecure-random-bytes` request: the
/// host allocates the bytes before copying them into the guest.
const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// What the guest wrote to stdout and stderr during the current call, up to
/// `cap` bytes; the rest is counted.
#[derive(Default)]
pub struct Captured {
    pub bytes: Vec<u8>,
    pub cap: usize,
    pub dropped: u64,
}

impl Captured {
    fn take_in(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes.len());
        let n = room.min(data.len());
        self.bytes.extend_from_slice(&data[..n]);
        self.dropped += (data.len() - n) as u64;
    }
}

/// stdout and stderr of one instance: every write is accepted at once (a
/// guest never blocks or fails on its output), kept within the cap.
#[derive(Clone)]
pub struct LogPipe(pub Arc<Mutex<Captured>>);

impl LogPipe {
    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        // A poisoned lock only means a panic elsewhere (panic = abort here).
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The bytes captured since the last take and how many were dropped.
    pub fn take(&self) -> (Vec<u8>, u64) {
        let mut c = self.lock();
        let dropped = std::mem::take(&mut c.dropped);
        (std::mem::take(&mut c.bytes), dropped)
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.lock().take_in(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Writes past the cap are accepted and counted, so there is always room.
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for LogPipe {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.lock().take_in(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The WASI state of an instance that was granted WASI.
pub struct Wasi {
    pub ctx: WasiCtx,
    pub log: LogPipe,
}

impl Wasi {
    pub fn new(log_cap: usize) -> Wasi {
        let log = LogPipe(Arc::new(Mutex::new(Captured { cap: log_cap, ..Captured::default() })));
        let ctx = WasiCtxBuilder::new()
            .stdout(log.clone())
            .stderr(log.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .max_random_size(MAX_RANDOM_BYTES)
            .build();
        Wasi { ctx, log }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        // Only linked when granted, and then instantiate set `wasi`; a
        // denied-everything context covers the impossible case.
        let wasi = self.wasi.get_or_insert_with(|| Wasi::new(0));
        WasiCtxView { ctx: &mut wasi.ctx, table: &mut self.table }
    }
}

/// The version of the WASI 0.2 interfaces wasmtime-wasi implements (a guest
/// importing any 0.2.x links against it).
const CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Links WASI 0.2 (sync) into `linker`, then replaces the monotonic clock's
/// subscriptions by ones that end no later than the call's deadline: host
/// code is not interrupted by epochs, so a guest sleeping in `poll` would
/// otherwise hold the thread past it.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let mut clock = linker.instance(CLOCK)?;
    clock.func_wrap("subscribe-duration", |mut store, (ns,): (u64,)| {
        let ns = clamp(&mut store, ns);
        monotonic_clock::Host::subscribe_duration(&mut store.data_mut().clocks(), ns).map(|p| (p,))
    })?;
    clock.func_wrap("subscribe-instant", |mut store, (when,): (u64,)| {
        let now = monotonic_clock::Host::now(&mut store.data_mut().clocks())?;
        let ns = clamp(&mut store, when.saturating_sub(now));
        let p: Resource<DynPollable> = monotonic_clock::Host::subscribe_duration(&mut store.data_mut().clocks(), ns)?;
        Ok((p,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// `ns` cut to what is left of the call plus a millisecond. When it was cut,
/// the epoch callback is armed to look at every check from now on (see
/// HostState::sleep_cut): the guest is stopped (Timeout) at the first check
/// after the sleep, which is past the deadline, however the ticks fall.
fn clamp(store: &mut StoreContextMut<'_, HostState>, ns: u64) -> u64 {
    let Some(deadline) = store.data().call_deadline else { return ns };
    let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1);
    let left = u64::try_from(left.as_nanos()).unwrap_or(u64::MAX);
    if ns <= left {
        return ns;
    }
    store.data_mut().sleep_cut = true;
    store.set_epoch_deadline(0);
    left
}
