//! world transform: drops every element whose payload contains the bytes
//! `drop`; emits the others unchanged, as a copy made by
//! buffer-allocator.clone-into-mutable (the input buffer is only borrowed).
#![no_std]

extern crate alloc;

torvyn_guest::bindings!("transform");

use exports::torvyn::streaming::processor::Guest;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

/// The byte string that drops an element (the transform world has no init,
/// so it is fixed).
const NEEDLE: &[u8] = b"drop";

struct Filter;

impl Guest for Filter {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let bytes = input.payload.read_all();
        if bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE) {
            return Ok(ProcessResult::Drop);
        }
        let copy = buffer_allocator::clone_into_mutable(input.payload)
            .map_err(|e| ProcessError::Internal(alloc::format!("clone-into-mutable: {e:?}")))?;
        Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: copy.freeze() }))
    }
}

export!(Filter);
