//! Guest SDK for `torvyn:streaming@0.1.0` components (wasmplug's torvyn
//! profile).
//!
//! - [`bindings!`] generates the `wit-bindgen` bindings of one of the four
//!   worlds from the project's `wit/torvyn-streaming`, embedded at build time.
//! - The `runtime` feature (default) supplies what a `#![no_std]` component
//!   needs and std / wasi-libc would otherwise bring, without importing WASI:
//!   a global allocator (dlmalloc on linear memory), a panic handler that
//!   traps (`unreachable`), `cabi_realloc` and `memcmp`/`bcmp`.
//! - [`config_u64`] / [`config_str`] read the flat JSON configs that
//!   `lifecycle.init` receives.
//!
//! ```ignore
//! #![no_std]
//! extern crate alloc;
//! torvyn_guest::bindings!("transform");
//! struct Upper;
//! impl exports::torvyn::streaming::processor::Guest for Upper { /* ... */ }
//! export!(Upper);
//! ```
#![no_std]

extern crate alloc;

use alloc::string::String;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

include!(concat!(env!("OUT_DIR"), "/bindings_macro.rs"));

#[cfg(all(feature = "runtime", target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// The canonical ABI's allocator export. On wasm32-wasip2 wit-bindgen expects
/// std (wasi-libc) to provide it; a no_std guest provides its own.
///
/// # Safety
/// Called by the component runtime with a pointer it got from here (or null)
/// and the size and alignment of that allocation.
#[cfg(all(feature = "runtime", target_arch = "wasm32"))]
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    use alloc::alloc::{alloc, handle_alloc_error, realloc, Layout};
    let Ok(layout) = Layout::from_size_align(new_len, align) else { core::arch::wasm32::unreachable() };
    if new_len == 0 {
        return align as *mut u8;
    }
    let ptr = if old_len == 0 {
        alloc(layout)
    } else {
        realloc(old_ptr, Layout::from_size_align_unchecked(old_len, align), new_len)
    };
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    ptr
}

/// `memcmp` for compiled slice comparisons: on wasm32-wasip2 it comes from
/// wasi-libc, which a no_std guest does not link (memcpy/memset are bulk
/// memory instructions there; memcmp is not). Without it the module would
/// import `env::memcmp` and the component would not encode.
///
/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[cfg(all(feature = "runtime", target_arch = "wasm32"))]
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// `bcmp` (equality only), which LLVM emits for `==` on slices.
///
/// # Safety
/// As for [`memcmp`].
#[cfg(all(feature = "runtime", target_arch = "wasm32"))]
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}

#[cfg(all(feature = "runtime", target_arch = "wasm32"))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Why a config was refused; the guests put it in `process-error.invalid-input`.
pub type ConfigError = String;

/// The value of `"key": <unsigned integer>` in a flat JSON object, or None if
/// the key is absent. A present key with anything but digits is an error.
pub fn config_u64(config: &str, key: &str) -> Result<Option<u64>, ConfigError> {
    let Some(rest) = value_of(config, key) else { return Ok(None) };
    let digits: &str = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
    if digits.is_empty() {
        return Err(alloc::format!("config: \"{key}\" must be an unsigned integer"));
    }
    digits
        .parse::<u64>()
        .map(Some)
        .map_err(|_| alloc::format!("config: \"{key}\" is out of range"))
}

/// The value of `"key": "<string>"` (escapes `\"` and `\\` only), or None.
pub fn config_str(config: &str, key: &str) -> Result<Option<String>, ConfigError> {
    let Some(rest) = value_of(config, key) else { return Ok(None) };
    let Some(body) = rest.strip_prefix('"') else {
        return Err(alloc::format!("config: \"{key}\" must be a string"));
    };
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(Some(out)),
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err(alloc::format!("config: \"{key}\": only \\\" and \\\\ escapes are supported")),
            },
            _ => out.push(c),
        }
    }
    Err(alloc::format!("config: \"{key}\": unterminated string"))
}

/// The text after `"key":` (whitespace skipped). The configs are flat and
/// written by the tests, so a plain search is enough.
fn value_of<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    let quoted = alloc::format!("\"{key}\"");
    let at = config.find(quoted.as_str())?;
    let rest = config[at + quoted.len()..].trim_start();
    Some(rest.strip_prefix(':')?.trim_start())
}
