//! world managed-transform: reads the element's flow-context and meta and
//! emits them as text, "trace=T span=S flow=F deadline=D type=C seq=N" (D:
//! deadline-ns, the remaining ns, 0 = none; C, N: content-type, sequence). `init(config)` picks how teardown behaves:
//!   "teardown:trap"  teardown executes `unreachable`
//!   "teardown:loop"  teardown loops forever (only the deadline stops it)
//!   anything else    teardown returns normally
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use core::cell::RefCell;

torvyn_guest::bindings!("managed-transform");

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::processor::Guest as Processor;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

struct Cell(RefCell<String>);
// SAFETY: wasm32 component instances run on one thread.
unsafe impl Sync for Cell {}
static CONFIG: Cell = Cell(RefCell::new(String::new()));

struct Flow;

impl Lifecycle for Flow {
    fn init(config: String) -> Result<(), ProcessError> {
        *CONFIG.0.borrow_mut() = config;
        Ok(())
    }

    fn teardown() {
        let config = CONFIG.0.borrow().clone();
        match config.as_str() {
            "teardown:trap" => core::arch::wasm32::unreachable(),
            "teardown:loop" => loop {
                core::hint::spin_loop();
            },
            _ => {}
        }
    }
}

impl Processor for Flow {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let c = input.context;
        let text = format!(
            "trace={} span={} flow={} deadline={} type={} seq={}",
            c.trace_id(),
            c.span_id(),
            c.flow_id(),
            c.deadline_ns(),
            input.meta.content_type,
            input.meta.sequence
        );
        let out = buffer_allocator::allocate(text.len() as u64)
            .map_err(|e| ProcessError::Internal(format!("allocate: {e:?}")))?;
        out.append(text.as_bytes()).map_err(|e| ProcessError::Internal(format!("append: {e:?}")))?;
        Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: out.freeze() }))
    }
}

export!(Flow);
