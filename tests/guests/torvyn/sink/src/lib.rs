//! world data-sink: `init` takes `{"pause_every":K,"expect":N}` (both
//! optional; K = 0 or absent never pauses). push accepts every element and
//! returns `pause` for every K-th one (the K-th, 2K-th, ...), `ready`
//! otherwise. complete() succeeds, unless "expect" was given and a different
//! number of elements arrived: then internal("expected N elements, got M"),
//! which is how a test checks delivery. An element whose payload is
//! "reject" is refused with invalid-input("rejected") and not counted.
//! push/complete before init return internal("not initialized").
#![no_std]

extern crate alloc;

use alloc::string::String;
use core::cell::RefCell;

torvyn_guest::bindings!("data-sink");

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::sink::Guest as Sink;
use torvyn::streaming::types::{BackpressureSignal, ProcessError, StreamElement};

struct State {
    initialized: bool,
    pause_every: u64,
    expect: Option<u64>,
    received: u64,
}

struct Cell(RefCell<State>);
// SAFETY: wasm32 component instances run on one thread.
unsafe impl Sync for Cell {}
static STATE: Cell = Cell(RefCell::new(State { initialized: false, pause_every: 0, expect: None, received: 0 }));

struct Counter;

impl Lifecycle for Counter {
    fn init(config: String) -> Result<(), ProcessError> {
        let pause_every = torvyn_guest::config_u64(&config, "pause_every").map_err(ProcessError::InvalidInput)?;
        let expect = torvyn_guest::config_u64(&config, "expect").map_err(ProcessError::InvalidInput)?;
        let mut state = STATE.0.borrow_mut();
        *state = State { initialized: true, pause_every: pause_every.unwrap_or(0), expect, received: 0 };
        Ok(())
    }

    fn teardown() {
        STATE.0.borrow_mut().initialized = false;
    }
}

impl Sink for Counter {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let mut state = STATE.0.borrow_mut();
        if !state.initialized {
            return Err(ProcessError::Internal(String::from("not initialized")));
        }
        if element.payload.size() == 6 && element.payload.read_all() == b"reject" {
            return Err(ProcessError::InvalidInput(String::from("rejected")));
        }
        state.received += 1;
        if state.pause_every != 0 && state.received % state.pause_every == 0 {
            Ok(BackpressureSignal::Pause)
        } else {
            Ok(BackpressureSignal::Ready)
        }
    }

    fn complete() -> Result<(), ProcessError> {
        let state = STATE.0.borrow();
        if !state.initialized {
            return Err(ProcessError::Internal(String::from("not initialized")));
        }
        match state.expect {
            Some(n) if n != state.received => Err(ProcessError::Internal(alloc::format!(
                "expected {n} elements, got {}",
                state.received
            ))),
            _ => Ok(()),
        }
    }
}

export!(Counter);
