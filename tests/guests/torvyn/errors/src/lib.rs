//! world transform: returns the process-error case the payload names, with
//! the message "requested <case>":
//!   "invalid-input" | "unavailable" | "internal" | "deadline-exceeded" | "fatal"
//! any other payload is emitted unchanged (clone-into-mutable). The host's
//! error policy is tested against these.
#![no_std]

extern crate alloc;

torvyn_guest::bindings!("transform");

use exports::torvyn::streaming::processor::Guest;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

struct Errors;

impl Guest for Errors {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let bytes = input.payload.read_all();
        let msg = |case: &str| alloc::format!("requested {case}");
        match bytes.as_slice() {
            b"invalid-input" => Err(ProcessError::InvalidInput(msg("invalid-input"))),
            b"unavailable" => Err(ProcessError::Unavailable(msg("unavailable"))),
            b"internal" => Err(ProcessError::Internal(msg("internal"))),
            b"deadline-exceeded" => Err(ProcessError::DeadlineExceeded),
            b"fatal" => Err(ProcessError::Fatal(msg("fatal"))),
            _ => {
                let copy = buffer_allocator::clone_into_mutable(input.payload)
                    .map_err(|e| ProcessError::Internal(alloc::format!("clone-into-mutable: {e:?}")))?;
                Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: copy.freeze() }))
            }
        }
    }
}

export!(Errors);
