//! Exports `torvyn:streaming/processor@0.1.0#process` with the wrong type
//! (from the private wit/wrong.wit): admission must reject it.
#![no_std]

extern crate alloc;
// The no_std runtime only; the bindings come from the private WIT.
use torvyn_guest as _;

use alloc::string::String;
use alloc::vec::Vec;

wit_bindgen::generate!({ world: "transform", path: "wit" });

struct Wrong;

impl exports::torvyn::streaming::processor::Guest for Wrong {
    fn process(input: Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(input)
    }
}

export!(Wrong);
