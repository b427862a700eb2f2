//! world data-source: `init` takes `{"count":N}` (or just `N`); pull emits
//! N elements with payloads "event-0" .. "event-<N-1>" (content type
//! text/plain, advisory sequence 0..N-1), then `none` on every later pull.
//!
//! Backpressure: notify-backpressure(pause) pauses the source and (ready)
//! resumes it. A pull while paused is the runtime's mistake and returns
//! internal("pull while paused (pause signals: P, ready signals: R)") without
//! consuming an element, so a test sees that the signals arrived and in what
//! number. pull before init returns internal("not initialized"); a bad config
//! is invalid-input naming the field.
#![no_std]

extern crate alloc;

use alloc::string::String;
use core::cell::RefCell;

torvyn_guest::bindings!("data-source");

use exports::torvyn::streaming::lifecycle::Guest as Lifecycle;
use exports::torvyn::streaming::source::Guest as Source;
use torvyn::streaming::buffer_allocator;
use torvyn::streaming::types::{BackpressureSignal, ElementMeta, OutputElement, ProcessError};

struct State {
    count: Option<u64>,
    next: u64,
    paused: bool,
    pauses: u64,
    readies: u64,
}

struct Cell(RefCell<State>);
// SAFETY: wasm32 component instances run on one thread.
unsafe impl Sync for Cell {}
static STATE: Cell = Cell(RefCell::new(State { count: None, next: 0, paused: false, pauses: 0, readies: 0 }));

struct Events;

fn parse_count(config: &str) -> Result<u64, String> {
    let trimmed = config.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed.parse::<u64>().map_err(|_| String::from("config: count is out of range"));
    }
    torvyn_guest::config_u64(config, "count")?
        .ok_or_else(|| String::from("config: expected {\"count\":N} or N (an unsigned integer)"))
}

impl Lifecycle for Events {
    fn init(config: String) -> Result<(), ProcessError> {
        let count = parse_count(&config).map_err(ProcessError::InvalidInput)?;
        let mut state = STATE.0.borrow_mut();
        state.count = Some(count);
        state.next = 0;
        Ok(())
    }

    fn teardown() {
        STATE.0.borrow_mut().count = None;
    }
}

impl Source for Events {
    fn pull() -> Result<Option<OutputElement>, ProcessError> {
        let mut state = STATE.0.borrow_mut();
        let Some(count) = state.count else {
            return Err(ProcessError::Internal(String::from("not initialized")));
        };
        if state.paused {
            return Err(ProcessError::Internal(alloc::format!(
                "pull while paused (pause signals: {}, ready signals: {})",
                state.pauses, state.readies
            )));
        }
        if state.next >= count {
            return Ok(None);
        }
        let n = state.next;
        let text = alloc::format!("event-{n}");
        let out = buffer_allocator::allocate(text.len() as u64)
            .map_err(|e| ProcessError::Internal(alloc::format!("allocate: {e:?}")))?;
        out.append(text.as_bytes()).map_err(|e| ProcessError::Internal(alloc::format!("append: {e:?}")))?;
        out.set_content_type("text/plain");
        state.next += 1;
        let meta = ElementMeta { sequence: n, timestamp_ns: 0, content_type: String::from("text/plain") };
        Ok(Some(OutputElement { meta, payload: out.freeze() }))
    }

    fn notify_backpressure(signal: BackpressureSignal) {
        let mut state = STATE.0.borrow_mut();
        match signal {
            BackpressureSignal::Pause => {
                state.paused = true;
                state.pauses += 1;
            }
            BackpressureSignal::Ready => {
                state.paused = false;
                state.readies += 1;
            }
        }
    }
}

export!(Events);
