//! world transform written with std: it writes to stderr and reads the clock
//! and environment, so the component imports WASI 0.2 (wasi:cli/*, wasi:io/*,
//! wasi:clocks/*, ...). Admission must refuse it unless the embedder grants
//! WASI; if granted, it emits the payload unchanged.

wit_bindgen::generate!({ world: "transform", path: "../../../../wit/torvyn-streaming" });

use exports::torvyn::streaming::processor::Guest;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

struct WasiStd;

impl Guest for WasiStd {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let now = std::time::SystemTime::now();
        eprintln!(
            "wasi_std: {} bytes at {:?}, HOME={:?}",
            input.payload.size(),
            now,
            std::env::var("HOME").ok()
        );
        let copy = buffer_allocator::clone_into_mutable(input.payload)
            .map_err(|e| ProcessError::Internal(format!("clone-into-mutable: {e:?}")))?;
        Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: copy.freeze() }))
    }
}

export!(WasiStd);
