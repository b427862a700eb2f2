//! The transform world plus an import of `torvyn:streaming/telemetry@0.1.0`,
//! which no torvyn world grants (private wit/unknown.wit): admission must
//! reject it, naming the import. process calls it, then drops the element.
#![no_std]

extern crate alloc;
// The no_std runtime only; the bindings come from the private WIT.
use torvyn_guest as _;

wit_bindgen::generate!({ world: "transform", path: "wit" });

use exports::torvyn::streaming::processor::Guest;
use torvyn::streaming::types::{ProcessError, ProcessResult, StreamElement};

struct UnknownImport;

impl Guest for UnknownImport {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        torvyn::streaming::telemetry::emit_metric("bytes", input.payload.size());
        Ok(ProcessResult::Drop)
    }
}

export!(UnknownImport);
