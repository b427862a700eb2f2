//! Guest SDK for [wasmplug](../../README.md) plugins written in Rust.
//!
//! It implements the native ABI v1 (`docs/abi.md`) for the
//! `wasm32-unknown-unknown` target — no WASI, no imports other than the
//! host's `wasmplug.log` and `wasmplug.fail` — so a plugin is plain safe Rust:
//!
//! ```ignore
//! fn shout(input: &[u8]) -> Vec<u8> {
//!     input.to_ascii_uppercase()
//! }
//! wasmplug::export_transform!(shout);
//! ```
//!
//! Build the plugin crate as a `cdylib` for `wasm32-unknown-unknown`:
//!
//! ```text
//! cargo build --release --target wasm32-unknown-unknown
//! ```
//!
//! What the SDK provides, once per module:
//! - the ABI marker `wasmplug_abi_version_1`,
//! - `wp_alloc` / `wp_free` on Rust's global allocator (every buffer is
//!   16-byte aligned; a request for more alignment is refused with 0),
//! - a panic hook: a panic fails the current call with `GuestError` carrying
//!   the panic message (instead of an anonymous `unreachable` trap).
//!
//! And one macro per hook, each used at most once per module:
//! [`export_transform!`], [`export_filter!`], [`export_observe!`],
//! [`export_init!`], [`export_shutdown!`]. A hook function takes the input
//! as `&[u8]`; what it may return is described by [`IntoTransform`],
//! [`IntoVerdict`] and [`IntoStatus`] (plain values, `Option`, or `Result`
//! with any `Display` error, which fails the call with that message).
//!
//! Ownership follows the ABI: the SDK frees the input after the hook returns
//! and keeps a transform's output alive until the host calls in again.
//!
//! Optional: [`FreshAlloc`], a global allocator that makes fresh-isolation
//! calls about 3x cheaper for plugins whose heap allocations do not outlive
//! a call.

use core::fmt::Display;
use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

/// Log levels of [`log`], as numbered by the ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

#[cfg(target_family = "wasm")]
mod host {
    #[link(wasm_import_module = "wasmplug")]
    extern "C" {
        pub fn log(level: i32, ptr: *const u8, len: usize);
        pub fn fail(ptr: *const u8, len: usize) -> !;
    }
}

// Off wasm (e.g. `cargo test` of a plugin's logic on the build machine) the
// host functions print to stderr and panic, so plugin code stays testable.
#[cfg(not(target_family = "wasm"))]
mod host {
    pub unsafe fn log(level: i32, ptr: *const u8, len: usize) {
        let msg = unsafe { core::slice::from_raw_parts(ptr, len) };
        eprintln!("[plugin log {level}] {}", String::from_utf8_lossy(msg));
    }
    pub unsafe fn fail(ptr: *const u8, len: usize) -> ! {
        let msg = unsafe { core::slice::from_raw_parts(ptr, len) };
        panic!("plugin failed: {}", String::from_utf8_lossy(msg));
    }
}

/// Sends a log line to the host (any bytes; the host cuts lines longer than
/// its `max_log_message_bytes`, 4 KiB by default).
pub fn log(level: Level, message: impl AsRef<[u8]>) {
    let m = message.as_ref();
    // SAFETY: the host reads exactly [ptr, ptr+len) of our memory.
    unsafe { host::log(level as i32, m.as_ptr(), m.len()) }
}

/// Fails the current call: the host reports `GuestError` with this message
/// (up to 4 KiB). Never returns.
pub fn fail(message: impl AsRef<[u8]>) -> ! {
    let m = message.as_ref();
    // SAFETY: as for `log`; the host does not return from `fail`.
    unsafe { host::fail(m.as_ptr(), m.len()) }
}

/// What a transform hook may return. `Some`/a plain buffer emits it (an empty
/// one is an empty output), `None` drops the input, `Err(e)` fails the call
/// with `e`'s message.
pub trait IntoTransform {
    fn into_transform(self) -> Option<Vec<u8>>;
}
impl IntoTransform for Vec<u8> {
    fn into_transform(self) -> Option<Vec<u8>> {
        Some(self)
    }
}
impl IntoTransform for String {
    fn into_transform(self) -> Option<Vec<u8>> {
        Some(self.into_bytes())
    }
}
impl<T: IntoTransform> IntoTransform for Option<T> {
    fn into_transform(self) -> Option<Vec<u8>> {
        self.and_then(IntoTransform::into_transform)
    }
}
impl<T: IntoTransform, E: Display> IntoTransform for Result<T, E> {
    fn into_transform(self) -> Option<Vec<u8>> {
        match self {
            Ok(v) => v.into_transform(),
            Err(e) => fail(e.to_string()),
        }
    }
}

/// What a filter hook may return: `true` keeps the input, `false` drops it;
/// `Err(e)` fails the call with `e`'s message.
pub trait IntoVerdict {
    fn into_verdict(self) -> bool;
}
impl IntoVerdict for bool {
    fn into_verdict(self) -> bool {
        self
    }
}
impl<T: IntoVerdict, E: Display> IntoVerdict for Result<T, E> {
    fn into_verdict(self) -> bool {
        match self {
            Ok(v) => v.into_verdict(),
            Err(e) => fail(e.to_string()),
        }
    }
}

/// What observe, init and shutdown hooks may return: `()` or `Ok(())` is
/// success. For observe, `Err(e)` fails the call; for init and shutdown,
/// `Err(e)` is logged at error level and reported to the host as a non-zero
/// status (init: the config is rejected, `GuestError` in phase init).
pub trait IntoStatus {
    fn into_status(self) -> Result<(), String>;
}
impl IntoStatus for () {
    fn into_status(self) -> Result<(), String> {
        Ok(())
    }
}
impl<E: Display> IntoStatus for Result<(), E> {
    fn into_status(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Exports `fn(&[u8]) -> impl IntoTransform` as the transform hook.
#[macro_export]
macro_rules! export_transform {
    ($hook:path) => {
        #[no_mangle]
        pub extern "C" fn wp_transform(ptr: u32, len: u32) -> u64 {
            // SAFETY: (ptr, len) is the buffer the host filled after our wp_alloc.
            unsafe { $crate::__private::transform(ptr, len, |input| $crate::IntoTransform::into_transform($hook(input))) }
        }
    };
}

/// Exports `fn(&[u8]) -> impl IntoVerdict` as the filter hook.
#[macro_export]
macro_rules! export_filter {
    ($hook:path) => {
        #[no_mangle]
        pub extern "C" fn wp_filter(ptr: u32, len: u32) -> i32 {
            // SAFETY: as for export_transform.
            unsafe { $crate::__private::filter(ptr, len, |input| $crate::IntoVerdict::into_verdict($hook(input))) }
        }
    };
}

/// Exports `fn(&[u8]) -> impl IntoStatus` as the observe hook.
#[macro_export]
macro_rules! export_observe {
    ($hook:path) => {
        #[no_mangle]
        pub extern "C" fn wp_observe(ptr: u32, len: u32) {
            // SAFETY: as for export_transform.
            unsafe { $crate::__private::observe(ptr, len, |input| $crate::IntoStatus::into_status($hook(input))) }
        }
    };
}

/// Exports `fn(&[u8]) -> impl IntoStatus` as the init hook: it receives the
/// plugin's config bytes once per instance, before the first hook call.
#[macro_export]
macro_rules! export_init {
    ($hook:path) => {
        #[no_mangle]
        pub extern "C" fn wp_init(ptr: u32, len: u32) -> i32 {
            // SAFETY: as for export_transform.
            unsafe { $crate::__private::init(ptr, len, |config| $crate::IntoStatus::into_status($hook(config))) }
        }
    };
}

/// Exports `fn() -> impl IntoStatus` as the shutdown hook, called when a
/// reused (warm) instance is retired.
#[macro_export]
macro_rules! export_shutdown {
    ($hook:path) => {
        #[no_mangle]
        pub extern "C" fn wp_shutdown() -> i32 {
            $crate::__private::shutdown(|| $crate::IntoStatus::into_status($hook()))
        }
    };
}

const ALIGN: usize = 16;

/// An opt-in global allocator for plugins run with **fresh isolation**:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOC: wasmplug::FreshAlloc = wasmplug::FreshAlloc;
/// ```
///
/// Rust's default allocator on `wasm32-unknown-unknown` grows linear memory
/// on its first allocation in every new instance, which is most of a fresh
/// call's cost (docs/benchmarks.md). This one bump-allocates from the free
/// part of the memory the module starts with (after `__heap_base`), grows
/// memory only when that is used up, gives back the most recent block, and
/// starts over whenever nothing is allocated (between calls, once the SDK has
/// released the input and the previous output). A plugin that keeps heap
/// allocations alive across calls in a warm instance (a cache, a growing
/// `Vec` in a `thread_local!`) would never reach "nothing allocated" and grow
/// until its memory limit: use the default allocator for those.
pub struct FreshAlloc;

#[cfg(target_arch = "wasm32")]
mod fresh_alloc {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32::{memory_grow, memory_size};
    use core::cell::Cell;

    const PAGE: usize = 65536;

    extern "C" {
        static __heap_base: u8;
    }

    struct State {
        next: Cell<usize>,
        live: Cell<usize>,
    }
    // SAFETY: wasm32-unknown-unknown modules run on one thread.
    unsafe impl Sync for State {}
    static STATE: State = State { next: Cell::new(0), live: Cell::new(0) };

    fn heap_base() -> usize {
        // Only the symbol's address is taken (no read): no unsafe needed.
        core::ptr::addr_of!(__heap_base) as usize
    }

    unsafe impl GlobalAlloc for super::FreshAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let next = match STATE.next.get() {
                0 => heap_base(),
                n => n,
            };
            let start = match next.checked_add(layout.align() - 1) {
                Some(n) => n & !(layout.align() - 1),
                None => return core::ptr::null_mut(),
            };
            let Some(end) = start.checked_add(layout.size()) else {
                return core::ptr::null_mut();
            };
            let have = memory_size(0) * PAGE;
            if end > have {
                let pages = (end - have).div_ceil(PAGE);
                if memory_grow(0, pages) == usize::MAX {
                    return core::ptr::null_mut();
                }
            }
            STATE.next.set(end);
            STATE.live.set(STATE.live.get() + 1);
            start as *mut u8
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let live = STATE.live.get() - 1;
            STATE.live.set(live);
            if live == 0 {
                STATE.next.set(heap_base());
            } else if ptr as usize + layout.size() == STATE.next.get() {
                STATE.next.set(ptr as usize); // the most recent block
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // The most recent block grows (or shrinks) in place.
            if ptr as usize + layout.size() == STATE.next.get() {
                if let Some(end) = (ptr as usize).checked_add(new_size) {
                    let have = memory_size(0) * PAGE;
                    if end <= have || memory_grow(0, (end - have).div_ceil(PAGE)) != usize::MAX {
                        STATE.next.set(end);
                        return ptr;
                    }
                }
                return core::ptr::null_mut();
            }
            // SAFETY: as for GlobalAlloc::realloc's default.
            unsafe {
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let new_ptr = self.alloc(new_layout);
                if !new_ptr.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new_ptr
            }
        }
    }
}

/// The ABI marker; the host never calls it.
#[cfg(target_family = "wasm")]
#[no_mangle]
pub extern "C" fn wasmplug_abi_version_1() {}

/// `wp_alloc(len, align)`: a buffer of `len` bytes, 16-byte aligned, or 0.
#[cfg(target_family = "wasm")]
#[no_mangle]
pub extern "C" fn wp_alloc(len: u32, align: u32) -> u32 {
    __private::install_panic_hook();
    // The host has read the previous output before it calls in again.
    __private::release_output();
    if align as usize > ALIGN {
        return 0;
    }
    match Layout::from_size_align(__private::alloc_size(len), ALIGN) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { alloc(layout) as u32 },
        Err(_) => 0,
    }
}

/// `wp_free(ptr, len, align)`: gives back a buffer from `wp_alloc`.
#[cfg(target_family = "wasm")]
#[no_mangle]
pub extern "C" fn wp_free(ptr: u32, len: u32, _align: u32) {
    // SAFETY: the ABI allows only buffers returned by wp_alloc(len, ..).
    unsafe { __private::free_input(ptr, len) }
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    thread_local! {
        // The last transform output: the host reads it after the call returns,
        // so it lives until the next transform replaces it.
        static LAST_OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        static HOOKED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    /// Routes panics to the host's `fail` (once per instance).
    pub fn install_panic_hook() {
        if HOOKED.with(|h| h.replace(true)) {
            return;
        }
        std::panic::set_hook(Box::new(|info| {
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "panic".to_string()
            };
            match info.location() {
                Some(l) => fail(format!("panic at {}:{}: {}", l.file(), l.line(), msg)),
                None => fail(format!("panic: {msg}")),
            }
        }));
    }

    /// Frees the previous transform output.
    pub fn release_output() {
        LAST_OUTPUT.with(|o| drop(core::mem::take(&mut *o.borrow_mut())));
    }

    /// wp_alloc(0, ..) still returns a distinct, freeable buffer.
    pub fn alloc_size(len: u32) -> usize {
        (len as usize).max(1)
    }

    /// # Safety
    /// `(ptr, len)` is (0, 0) or a live buffer from `wp_alloc(len, ..)`.
    pub unsafe fn free_input(ptr: u32, len: u32) {
        if ptr != 0 {
            // SAFETY: same layout as in wp_alloc.
            unsafe { dealloc(ptr as usize as *mut u8, Layout::from_size_align_unchecked(alloc_size(len), ALIGN)) }
        }
    }

    /// Runs `f` on the input, then frees the input.
    ///
    /// # Safety
    /// `(ptr, len)` is (0, 0) or a live, initialised buffer from `wp_alloc(len, ..)`.
    unsafe fn with_input<R>(ptr: u32, len: u32, f: impl FnOnce(&[u8]) -> R) -> R {
        install_panic_hook();
        let input: &[u8] = if ptr == 0 || len == 0 {
            &[]
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
        };
        let result = f(input);
        // SAFETY: `input` is not used past here.
        unsafe { free_input(ptr, len) };
        result
    }

    /// # Safety
    /// As for `with_input`.
    pub unsafe fn transform(ptr: u32, len: u32, f: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> u64 {
        // The previous output was read by the host before this call.
        release_output();
        // SAFETY: forwarded.
        match unsafe { with_input(ptr, len, f) } {
            None => 0,
            Some(out) => {
                // An empty Vec's dangling pointer is non-zero: an empty output.
                let packed = ((out.as_ptr() as usize as u64) << 32) | out.len() as u64;
                LAST_OUTPUT.with(|o| *o.borrow_mut() = out);
                packed
            }
        }
    }

    /// # Safety
    /// As for `with_input`.
    pub unsafe fn filter(ptr: u32, len: u32, f: impl FnOnce(&[u8]) -> bool) -> i32 {
        // SAFETY: forwarded.
        i32::from(unsafe { with_input(ptr, len, f) })
    }

    /// # Safety
    /// As for `with_input`.
    pub unsafe fn observe(ptr: u32, len: u32, f: impl FnOnce(&[u8]) -> Result<(), String>) {
        // SAFETY: forwarded.
        if let Err(e) = unsafe { with_input(ptr, len, f) } {
            fail(e)
        }
    }

    /// # Safety
    /// As for `with_input`.
    pub unsafe fn init(ptr: u32, len: u32, f: impl FnOnce(&[u8]) -> Result<(), String>) -> i32 {
        // SAFETY: forwarded.
        status(unsafe { with_input(ptr, len, f) })
    }

    pub fn shutdown(f: impl FnOnce() -> Result<(), String>) -> i32 {
        install_panic_hook();
        status(f())
    }

    fn status(r: Result<(), String>) -> i32 {
        match r {
            Ok(()) => 0,
            Err(e) => {
                log(Level::Error, e);
                1
            }
        }
    }
}
