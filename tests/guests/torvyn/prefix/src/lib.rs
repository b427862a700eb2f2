//! world managed-transform: `init({"prefix":"P"})` sets a prefix, process
//! emits P + payload in a fresh buffer. A config without a string "prefix"
//! is refused with invalid-input naming the field; process before init (or
//! after teardown) returns internal("not initialized"); a second init is
//! invalid-input (init runs once).
#![no_std]

extern crate alloc;

use alloc::string::String;
use core::cell::RefCell;

torvyn_guest::bindings!("managed-transform");

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::processor::Guest as Processor;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{OutputElement, ProcessError, ProcessResult, StreamElement};

/// Component state; a component instance is single-threaded.
struct State {
    prefix: Option<String>,
    initialized_once: bool,
}

struct Cell(RefCell<State>);
// SAFETY: wasm32 component instances run on one thread.
unsafe impl Sync for Cell {}
static STATE: Cell = Cell(RefCell::new(State { prefix: None, initialized_once: false }));

struct Prefix;

impl Lifecycle for Prefix {
    fn init(config: String) -> Result<(), ProcessError> {
        let mut state = STATE.0.borrow_mut();
        if state.initialized_once {
            return Err(ProcessError::InvalidInput(String::from("init called twice")));
        }
        let prefix = torvyn_guest::config_str(&config, "prefix")
            .map_err(ProcessError::InvalidInput)?
            .ok_or_else(|| ProcessError::InvalidInput(String::from("config: missing string field \"prefix\"")))?;
        state.prefix = Some(prefix);
        state.initialized_once = true;
        Ok(())
    }

    fn teardown() {
        STATE.0.borrow_mut().prefix = None;
    }
}

impl Processor for Prefix {
    fn process(input: StreamElement) -> Result<ProcessResult, ProcessError> {
        let state = STATE.0.borrow();
        let Some(prefix) = state.prefix.as_deref() else {
            return Err(ProcessError::Internal(String::from("not initialized")));
        };
        let bytes = input.payload.read_all();
        let internal = |what: &str, e: torvyn::streaming::types::BufferError| {
            ProcessError::Internal(alloc::format!("{what}: {e:?}"))
        };
        let out = buffer_allocator::allocate((prefix.len() + bytes.len()) as u64).map_err(|e| internal("allocate", e))?;
        out.append(prefix.as_bytes()).map_err(|e| internal("append", e))?;
        out.append(&bytes).map_err(|e| internal("append", e))?;
        out.set_content_type(&input.meta.content_type);
        Ok(ProcessResult::Emit(OutputElement { meta: input.meta, payload: out.freeze() }))
    }
}

export!(Prefix);
