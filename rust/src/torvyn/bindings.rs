//! Typed bindings of the four torvyn:streaming@0.1.0 worlds.
//!
//! `managed-transform` generates the imported interfaces (`types`,
//! `buffer-allocator`) once; the other worlds map them onto those with
//! `with`, so every world shares one set of host types.

pub mod managed {
    wasmtime::component::bindgen!({
        path: "../wit/torvyn-streaming",
        world: "torvyn:streaming/managed-transform",
        imports: { default: trappable },
        with: {
            "torvyn:streaming/types.buffer": crate::torvyn::host::Buffer,
            "torvyn:streaming/types.mutable-buffer": crate::torvyn::host::MutableBuffer,
            "torvyn:streaming/types.flow-context": crate::torvyn::host::FlowContext,
        },
    });
}

pub mod transform {
    wasmtime::component::bindgen!({
        path: "../wit/torvyn-streaming",
        world: "torvyn:streaming/transform",
        imports: { default: trappable },
        with: {
            "torvyn:streaming/types": crate::torvyn::bindings::managed::torvyn::streaming::types,
            "torvyn:streaming/buffer-allocator": crate::torvyn::bindings::managed::torvyn::streaming::buffer_allocator,
        },
    });
}

pub mod source {
    wasmtime::component::bindgen!({
        path: "../wit/torvyn-streaming",
        world: "torvyn:streaming/data-source",
        imports: { default: trappable },
        with: {
            "torvyn:streaming/types": crate::torvyn::bindings::managed::torvyn::streaming::types,
            "torvyn:streaming/buffer-allocator": crate::torvyn::bindings::managed::torvyn::streaming::buffer_allocator,
        },
    });
}

pub mod sink {
    wasmtime::component::bindgen!({
        path: "../wit/torvyn-streaming",
        world: "torvyn:streaming/data-sink",
        imports: { default: trappable },
        with: {
            "torvyn:streaming/types": crate::torvyn::bindings::managed::torvyn::streaming::types,
        },
    });
}

pub use managed::torvyn::streaming::buffer_allocator;
pub use managed::torvyn::streaming::types;
