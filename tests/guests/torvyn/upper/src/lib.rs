//! world transform: emits the payload uppercased (ASCII) in a buffer of its
//! own (buffer-allocator.allocate, append, freeze) with the input's meta.
#![no_std]

extern crate alloc;

torvyn_guest::bindings!("transform");

use exports::torvyn::streaming::processor::Guest;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

struct Upper;

impl Guest for Upper {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let mut bytes = input.payload.read_all();
        bytes.make_ascii_uppercase();
        let out = buffer_allocator::allocate(bytes.len() as u64)
            .map_err(|e| ProcessError::Internal(alloc::format!("allocate: {e:?}")))?;
        out.append(&bytes).map_err(|e| ProcessError::Internal(alloc::format!("append: {e:?}")))?;
        out.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: out.freeze() }))
    }
}

export!(Upper);
