//! world transform: misbehaves in the way the payload names, so that one
//! instance can misbehave and then (if the host keeps it) serve a good call:
//!   "trap"            executes `unreachable`.
//!   "loop"            loops forever (only fuel or an epoch deadline stops it).
//!   "stack-overflow"  recurses without bound (traps on the stack guard).
//!   "exhaust-buffers" allocates 1 MiB buffers and keeps them all until
//!                     buffer-allocator.allocate fails, then returns
//!                     internal("allocate failed after N buffers: <error>")
//!                     (the buffers are dropped on return). If the host grants
//!                     1,000,000 of them: internal("host granted ...").
//!   "fill-buffer"     appends 64 KiB chunks to one buffer until append fails,
//!                     then internal("append failed after B bytes: <error>").
//!   "memory-bomb"     grows its linear memory 1 MiB at a time, writing to every
//!                     new page, until memory.grow fails (returns -1), then
//!                     internal("memory.grow refused after P pages (64 KiB each)").
//!                     A host that traps on a refused grow stops it there.
//! Any other payload is emitted unchanged (clone-into-mutable).
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

torvyn_guest::bindings!("transform");

use exports::torvyn::streaming::processor::Guest;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

const MIB: u64 = 1 << 20;
const PAGE: usize = 65536;

struct Hostile;

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    // black_box keeps the frame and the recursion from being optimized away.
    let frame = core::hint::black_box([depth; 32]);
    recurse(depth + 1).wrapping_add(frame[(depth % 32) as usize])
}

fn exhaust_buffers() -> ProcessError {
    let mut held = Vec::new();
    for n in 0..1_000_000u64 {
        match buffer_allocator::allocate(MIB) {
            Ok(b) => held.push(b),
            Err(e) => return ProcessError::Internal(alloc::format!("allocate failed after {n} buffers: {e:?}")),
        }
    }
    ProcessError::Internal(alloc::format!("host granted {} buffers of 1 MiB without an error", held.len()))
}

fn fill_buffer() -> ProcessError {
    let chunk = alloc::vec![0x5au8; 64 * 1024];
    let buf = match buffer_allocator::allocate(16) {
        Ok(b) => b,
        Err(e) => return ProcessError::Internal(alloc::format!("allocate failed: {e:?}")),
    };
    let mut total: u64 = 0;
    // 1 TiB of appends: only reached if the host enforces no cap at all.
    while total < (1u64 << 40) {
        if let Err(e) = buf.append(&chunk) {
            return ProcessError::Internal(alloc::format!("append failed after {total} bytes: {e:?}"));
        }
        total += chunk.len() as u64;
    }
    ProcessError::Internal(alloc::format!("host accepted {total} bytes in one buffer"))
}

fn memory_bomb() -> ProcessError {
    let mut pages: usize = 0;
    loop {
        let old = core::arch::wasm32::memory_grow(0, 16);
        if old == usize::MAX {
            return ProcessError::Internal(alloc::format!("memory.grow refused after {pages} pages (64 KiB each)"));
        }
        for p in 0..16 {
            // SAFETY: the pages [old, old + 16) were just added to memory 0
            // and nothing else uses them.
            unsafe { core::ptr::write_volatile(((old + p) * PAGE) as *mut u8, 1) };
        }
        pages += 16;
    }
}

impl Guest for Hostile {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let bytes = input.payload.read_all();
        match bytes.as_slice() {
            b"trap" => core::arch::wasm32::unreachable(),
            b"loop" => loop {
                core::hint::black_box(&bytes);
            },
            b"stack-overflow" => {
                let r = recurse(0);
                Err(ProcessError::Internal(alloc::format!("recursion returned {r}")))
            }
            b"exhaust-buffers" => Err(exhaust_buffers()),
            b"fill-buffer" => Err(fill_buffer()),
            b"memory-bomb" => Err(memory_bomb()),
            _ => {
                let copy = buffer_allocator::clone_into_mutable(input.payload)
                    .map_err(|e| ProcessError::Internal(alloc::format!("clone-into-mutable: {e:?}")))?;
                Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: copy.freeze() }))
            }
        }
    }
}

export!(Hostile);
