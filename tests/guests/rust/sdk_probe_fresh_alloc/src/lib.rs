// The SDK probe (../sdk_probe) with the SDK's opt-in FreshAlloc as its global
// allocator: the same tests must pass, warm instances included (the
// allocator starts over whenever nothing is allocated).
#[global_allocator]
static ALLOC: wasmplug::FreshAlloc = wasmplug::FreshAlloc;

include!("../../sdk_probe/src/lib.rs");
