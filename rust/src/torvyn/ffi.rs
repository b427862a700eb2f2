//! The narrow C interface of the torvyn host (src/component/torvyn_ffi.h
//! mirrors it). Every struct is #[repr(C)]; payload bytes cross as
//! pointer + length; results the host reads stay owned by the instance and
//! are valid until its next call.

use super::bindings::types::{
    BackpressureSignal, ElementMeta, OutputElement, ProcessError, ProcessResult, StreamElement,
};
use super::bindings::{buffer_allocator, managed, sink, source, transform, types};
use super::host::{Buffer, Flow, FlowContext, HostState, Limiter, MAX_CONTENT_TYPE};
use std::time::{Duration, Instant};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentNamedList, HasSelf, InstancePre, Lift, Linker, Lower, Resource, ResourceTable};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

pub const WORLD_TRANSFORM: u32 = 0;
pub const WORLD_MANAGED_TRANSFORM: u32 = 1;
pub const WORLD_DATA_SOURCE: u32 = 2;
pub const WORLD_DATA_SINK: u32 = 3;

pub const STATUS_OK: u32 = 0;
pub const STATUS_PROCESS_ERROR: u32 = 1;
pub const STATUS_TRAP: u32 = 2;
pub const STATUS_HOST_FAULT: u32 = 3;
pub const STATUS_OUTPUT_TOO_LARGE: u32 = 4;
pub const STATUS_DEAD: u32 = 5;
pub const STATUS_WRONG_WORLD: u32 = 6;
pub const STATUS_HOST_ERROR: u32 = 7;

const PKG: &str = "torvyn:streaming";
const VERSION: &str = "@0.1.0";

/// Bytes owned by Rust, handed to C; freed with wasmplug_tv_bytes_free.
#[repr(C)]
pub struct WpTvBytes {
    pub data: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl WpTvBytes {
    fn from_vec(v: Vec<u8>) -> Self {
        let mut v = std::mem::ManuallyDrop::new(v);
        WpTvBytes { data: v.as_mut_ptr(), len: v.len(), cap: v.capacity() }
    }
    fn empty() -> Self {
        WpTvBytes { data: std::ptr::null_mut(), len: 0, cap: 0 }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_bytes_free(bytes: *mut WpTvBytes) {
    if bytes.is_null() {
        return;
    }
    // SAFETY: the caller passes bytes made by from_vec (or empty).
    let b = unsafe { &mut *bytes };
    if !b.data.is_null() {
        drop(unsafe { Vec::from_raw_parts(b.data, b.len, b.cap) });
    }
    *b = WpTvBytes::empty();
}

fn set_text(out: *mut WpTvBytes, text: String) {
    set_text_bytes(out, text.into_bytes());
}

unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(ptr, len) } }
}

unsafe fn text(ptr: *const u8, len: usize) -> String {
    String::from_utf8_lossy(unsafe { slice(ptr, len) }).into_owned()
}

const _: () = assert!(std::mem::size_of::<wasmtime_c_api::wasm_engine_t>() == std::mem::size_of::<Engine>());

/// The C API's `wasm_engine_t` is `#[repr(C)] struct { engine: Engine }`:
/// a pointer to it is a pointer to its one field.
unsafe fn engine_of(engine: *const wasmtime_c_api::wasm_engine_t) -> Engine {
    unsafe { (*engine.cast::<Engine>()).clone() }
}

enum Pre {
    Transform(transform::TransformPre<HostState>),
    Managed(managed::ManagedTransformPre<HostState>),
    Source(source::DataSourcePre<HostState>),
    Sink(sink::DataSinkPre<HostState>),
}

pub struct WpTvComponent {
    engine: Engine,
    component: Component,
    pre: Option<Pre>,
    /// Admitted with the WASI grant: instances get a WASI context.
    wasi: bool,
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_compile(
    engine: *const wasmtime_c_api::wasm_engine_t,
    bytes: *const u8,
    len: usize,
    out: *mut *mut WpTvComponent,
    error: *mut WpTvBytes,
) -> bool {
    let engine = unsafe { engine_of(engine) };
    let compiled = Component::new(&engine, unsafe { slice(bytes, len) });
    unsafe { hand_out(engine, compiled, out, error) }
}

/// Bytes from wasmplug_tv_serialize only (the cache authenticates them
/// before they get here): Wasmtime trusts serialized code.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_deserialize(
    engine: *const wasmtime_c_api::wasm_engine_t,
    bytes: *const u8,
    len: usize,
    out: *mut *mut WpTvComponent,
    error: *mut WpTvBytes,
) -> bool {
    let engine = unsafe { engine_of(engine) };
    // SAFETY: see the doc comment: the caller vouches for the bytes.
    let loaded = unsafe { Component::deserialize(&engine, slice(bytes, len)) };
    unsafe { hand_out(engine, loaded, out, error) }
}

/// The end of compile and deserialize: the component into `*out`, or the
/// error's text (one line) into `*error`.
unsafe fn hand_out(
    engine: Engine,
    result: wasmtime::Result<Component>,
    out: *mut *mut WpTvComponent,
    error: *mut WpTvBytes,
) -> bool {
    match result {
        Ok(component) => {
            // SAFETY: a valid out pointer from the caller.
            unsafe { *out = Box::into_raw(Box::new(WpTvComponent { engine, component, pre: None, wasi: false })) };
            true
        }
        Err(e) => {
            set_text(error, one_line(&format!("{e:#}")));
            false
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_serialize(component: *const WpTvComponent, out: *mut WpTvBytes, error: *mut WpTvBytes) -> bool {
    match unsafe { &*component }.component.serialize() {
        Ok(v) => {
            unsafe { *out = WpTvBytes::from_vec(v) };
            true
        }
        Err(e) => {
            set_text(error, one_line(&format!("{e:#}")));
            false
        }
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_component_free(component: *mut WpTvComponent) {
    if !component.is_null() {
        drop(unsafe { Box::from_raw(component) });
    }
}

fn world_name(world: u32) -> &'static str {
    match world {
        WORLD_TRANSFORM => "transform",
        WORLD_MANAGED_TRANSFORM => "managed-transform",
        WORLD_DATA_SOURCE => "data-source",
        _ => "data-sink",
    }
}

fn world_imports(world: u32) -> &'static [&'static str] {
    match world {
        WORLD_DATA_SINK => &["types"],
        _ => &["types", "buffer-allocator"],
    }
}

fn world_exports(world: u32) -> &'static [&'static str] {
    match world {
        WORLD_TRANSFORM => &["processor"],
        WORLD_MANAGED_TRANSFORM => &["processor", "lifecycle"],
        WORLD_DATA_SOURCE => &["source", "lifecycle"],
        _ => &["sink", "lifecycle"],
    }
}

fn full(iface: &str) -> String {
    format!("{PKG}/{iface}{VERSION}")
}

fn item_kind(item: &wasmtime::component::types::ComponentItem) -> &'static str {
    use wasmtime::component::types::ComponentItem as I;
    match item {
        I::ComponentFunc(_) => "func",
        I::CoreFunc(_) => "core func",
        I::Module(_) => "module",
        I::Component(_) => "component",
        I::ComponentInstance(_) => "instance",
        I::Type(_) => "type",
        I::Resource(_) => "resource",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

fn linker(engine: &Engine, wasi: bool) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    if wasi {
        super::wasi::add_to_linker(&mut linker)?;
    }
    types::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    buffer_allocator::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// Wasmtime's typed bindings check an interface export's function types only
/// when an instance is made; admission checks them here, without running
/// guest code, so that a mismatch is refused naming the export.
fn check_func<P, R>(pre: &InstancePre<HostState>, world: u32, iface: &str, func: &str) -> Result<(), String>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    let name = full(iface);
    let component = pre.component();
    let Some((_, instance)) = component.get_export(None, name.as_str()) else {
        return Err(format!("export `{name}` required by world {} is missing", world_name(world)));
    };
    let Some((item, _)) = component.get_export(Some(&instance), func) else {
        return Err(format!("export `{name}` has no function `{func}` (world {})", world_name(world)));
    };
    match item {
        ComponentItem::ComponentFunc(f) => f.typecheck::<P, R>(&pre.instance_type()).map_err(|e| {
            format!("export `{name}` function `{func}` does not have the type world {} requires: {e:#}", world_name(world))
        }),
        _ => Err(format!("export `{name}` item `{func}` is not a function")),
    }
}

fn check_exports(pre: &InstancePre<HostState>, world: u32) -> Result<(), String> {
    type Pe = ProcessError;
    if matches!(world, WORLD_TRANSFORM | WORLD_MANAGED_TRANSFORM) {
        check_func::<(&StreamElement,), (Result<ProcessResult, Pe>,)>(pre, world, "processor", "process")?;
    }
    if world == WORLD_DATA_SOURCE {
        check_func::<(), (Result<Option<OutputElement>, Pe>,)>(pre, world, "source", "pull")?;
        check_func::<(BackpressureSignal,), ()>(pre, world, "source", "notify-backpressure")?;
    }
    if world == WORLD_DATA_SINK {
        check_func::<(&StreamElement,), (Result<BackpressureSignal, Pe>,)>(pre, world, "sink", "push")?;
        check_func::<(), (Result<(), Pe>,)>(pre, world, "sink", "complete")?;
    }
    if world != WORLD_TRANSFORM {
        check_func::<(&str,), (Result<(), Pe>,)>(pre, world, "lifecycle", "init")?;
        check_func::<(), ()>(pre, world, "lifecycle", "teardown")?;
    }
    Ok(())
}

fn make_pre(c: &WpTvComponent, world: u32, wasi: bool) -> Result<Pre, String> {
    let linker = linker(&c.engine, wasi).map_err(|e| format!("{e:#}"))?;
    let pre = linker.instantiate_pre(&c.component).map_err(|e| {
        format!("an import does not have the type world {} grants: {e:#}", world_name(world))
    })?;
    check_exports(&pre, world)?;
    let wrong = |e: wasmtime::Error| format!("an export does not have the type world {} requires: {e:#}", world_name(world));
    Ok(match world {
        WORLD_TRANSFORM => Pre::Transform(transform::TransformPre::new(pre).map_err(wrong)?),
        WORLD_MANAGED_TRANSFORM => Pre::Managed(managed::ManagedTransformPre::new(pre).map_err(wrong)?),
        WORLD_DATA_SOURCE => Pre::Source(source::DataSourcePre::new(pre).map_err(wrong)?),
        _ => Pre::Sink(sink::DataSinkPre::new(pre).map_err(wrong)?),
    })
}

/// Admission against `world`: lines "import\tNAME\tKIND", "export\tNAME\tKIND"
/// and one "problem\tSENTENCE" per reason, into `report`. Admitted (no
/// problem) also prepares the component for instantiation (typed
/// instance-pre: export and import types checked). With `wasi` (the
/// embedder's grant) a `wasi:` import is admitted when wasmtime-wasi's p2
/// implementation provides it with the same type. Returns admitted.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_admit(component: *mut WpTvComponent, world: u32, wasi: bool, report: *mut WpTvBytes) -> bool {
    let c = unsafe { &mut *component };
    let world = world.min(WORLD_DATA_SINK);
    let ty = c.component.component_type();
    let mut lines = String::new();
    let mut problems = Vec::new();
    let granted: Vec<String> = world_imports(world).iter().map(|i| full(i)).collect();
    for (name, item) in ty.imports(&c.engine) {
        lines.push_str(&format!("import\t{name}\t{}\n", item_kind(&item.ty)));
        let is_wasi = name.starts_with("wasi:");
        // Granted WASI imports are checked by the linker (make_pre): it names
        // any the implementation does not provide.
        if !granted.iter().any(|g| g == name) && !(wasi && is_wasi) {
            let why = if is_wasi {
                ": WASI imports are refused unless the embedder grants them (ComponentOptions::wasi)"
            } else {
                ""
            };
            problems.push(format!("import `{name}` is not granted by world {}{why}", world_name(world)));
        }
    }
    let exported: Vec<String> = ty.exports(&c.engine).map(|(n, item)| {
        lines.push_str(&format!("export\t{n}\t{}\n", item_kind(&item.ty)));
        n.to_string()
    }).collect();
    for required in world_exports(world) {
        let name = full(required);
        if !exported.iter().any(|e| *e == name) {
            problems.push(format!("export `{name}` required by world {} is missing", world_name(world)));
        }
    }
    if problems.is_empty() {
        match make_pre(c, world, wasi) {
            Ok(pre) => {
                c.pre = Some(pre);
                c.wasi = wasi;
            }
            Err(p) => problems.push(p),
        }
    }
    for p in &problems {
        lines.push_str(&format!("problem\t{}\n", p.replace(['\n', '\t'], " ")));
    }
    set_text(report, lines);
    problems.is_empty()
}

#[repr(C)]
pub struct WpTvLimits {
    pub memory_bytes: u64,
    pub table_elements: u64,
    pub max_buffer_bytes: u64,
    pub buffer_budget_bytes: u64,
    pub max_output_bytes: u64,
    pub deadline_ns: u64,
    pub epoch_ticks: u64,
    pub fuel: u64,
    pub fuel_metered: u32,
    pub fuel_enabled: u32,
    /// WASI grant: bytes of stdout + stderr kept per call (the rest counted).
    pub wasi_log_bytes: u64,
    /// Thread CPU time per call, ns; 0 = no CPU deadline.
    pub cpu_deadline_ns: u64,
}

#[repr(C)]
pub struct WpTvElement {
    pub payload: *const u8,
    pub payload_len: usize,
    pub content_type: *const u8,
    pub content_type_len: usize,
    pub trace_id: *const u8,
    pub trace_id_len: usize,
    pub span_id: *const u8,
    pub span_id_len: usize,
    pub flow_id: *const u8,
    pub flow_id_len: usize,
    pub sequence: u64,
    pub timestamp_ns: u64,
    pub deadline_ns: u64,
}

#[repr(C)]
pub struct WpTvOutcome {
    pub status: u32,
    /// OK: 0 emit/some/ready, 1 drop/none/pause. Process error: the case.
    /// Trap: wasmplug's TrapCode. Host fault: its kind.
    pub detail: u32,
    /// A trap after linear memory was refused growth.
    pub memory_denied: u32,
    pub has_output: u32,
    /// The call trapped: this guest instance cannot be entered again.
    pub dead: u32,
    /// The trap (Interrupt) was the CPU deadline, not the wall clock.
    pub cpu_overrun: u32,
    pub sequence: u64,
    pub timestamp_ns: u64,
    pub payload: *const u8,
    pub payload_len: usize,
    pub content_type: *const u8,
    pub content_type_len: usize,
    pub message: *const u8,
    pub message_len: usize,
}

enum Bound {
    Transform(transform::Transform),
    Managed(managed::ManagedTransform),
    Source(source::DataSource),
    Sink(sink::DataSink),
}

pub struct WpTvInstance {
    store: Store<HostState>,
    bound: Bound,
    call: CallSettings,
    max_output: u64,
    dead: bool,
    out_bytes: Vec<u8>,
    out_content_type: String,
    message: String,
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_instantiate(
    component: *const WpTvComponent,
    limits: *const WpTvLimits,
    out: *mut *mut WpTvInstance,
    error: *mut WpTvBytes,
) -> u32 {
    let c = unsafe { &*component };
    let l = unsafe { &*limits };
    let Some(pre) = &c.pre else {
        set_text(error, "the component was not admitted".into());
        return STATUS_HOST_ERROR;
    };
    let state = HostState {
        table: ResourceTable::new(),
        limiter: Limiter {
            max_memory: usize::try_from(l.memory_bytes).unwrap_or(usize::MAX),
            max_table_elements: usize::try_from(l.table_elements).unwrap_or(usize::MAX),
            memory_used: 0,
            memory_denied: false,
        },
        max_buffer: l.max_buffer_bytes,
        budget: l.buffer_budget_bytes,
        budget_used: 0,
        budget_denials: 0,
        flow: Flow::default(),
        call_deadline: None,
        sleep_cut: false,
        deadline_grace_used: false,
        cpu_budget: (l.cpu_deadline_ns != 0).then_some(l.cpu_deadline_ns),
        call_cpu_start: 0,
        cpu_overrun: false,
        host_fault: None,
        wasi: c.wasi.then(|| super::wasi::Wasi::new(usize::try_from(l.wasi_log_bytes).unwrap_or(usize::MAX))),
    };
    let mut store = Store::new(&c.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.epoch_deadline_callback(|mut ctx| {
        // The deadline is a real clock: epochs only say when to look.
        let data = ctx.data_mut();
        if !matches!(data.call_deadline, Some(d) if Instant::now() < d) {
            // One tick of grace the first time (as for core modules, see
            // src/instance/instance.cpp), unless a WASI sleep was cut: that
            // guest asked to wait past the deadline.
            if data.deadline_grace_used || data.sleep_cut {
                return Ok(UpdateDeadline::Interrupt);
            }
            data.deadline_grace_used = true;
            return Ok(UpdateDeadline::Continue(1));
        }
        if let Some(budget) = data.cpu_budget {
            if super::host::thread_cpu_ns().wrapping_sub(data.call_cpu_start) >= budget {
                data.cpu_overrun = true;
                return Ok(UpdateDeadline::Interrupt);
            }
        }
        Ok(UpdateDeadline::Continue(if data.sleep_cut { 0 } else { 1 }))
    });
    let mut call = CallSettings {
        deadline: Duration::from_nanos(l.deadline_ns),
        epoch_ticks: l.epoch_ticks.max(1),
        fuel: (l.fuel_metered != 0).then_some(l.fuel),
        fuel_enabled: l.fuel_enabled != 0,
    };
    if !call.fuel_enabled {
        call.fuel = None;
    }
    call.begin(&mut store);
    let bound = match pre {
        Pre::Transform(p) => p.instantiate(&mut store).map(Bound::Transform),
        Pre::Managed(p) => p.instantiate(&mut store).map(Bound::Managed),
        Pre::Source(p) => p.instantiate(&mut store).map(Bound::Source),
        Pre::Sink(p) => p.instantiate(&mut store).map(Bound::Sink),
    };
    match bound {
        Ok(bound) => {
            let inst = WpTvInstance {
                store,
                bound,
                call,
                max_output: l.max_output_bytes,
                dead: false,
                out_bytes: Vec::new(),
                out_content_type: String::new(),
                message: String::new(),
            };
            unsafe { *out = Box::into_raw(Box::new(inst)) };
            STATUS_OK
        }
        Err(e) => {
            let (status, _, message) = classify(&mut store, e);
            set_text(error, message);
            status
        }
    }
}

struct CallSettings {
    deadline: Duration,
    epoch_ticks: u64,
    fuel: Option<u64>,
    fuel_enabled: bool,
}

impl CallSettings {
    /// Arms one call: its deadline, its fuel, a clean fault record.
    fn begin(&self, store: &mut Store<HostState>) {
        let data = store.data_mut();
        data.call_deadline = Some(Instant::now() + self.deadline);
        data.sleep_cut = false;
        data.deadline_grace_used = false;
        data.cpu_overrun = false;
        if data.cpu_budget.is_some() {
            data.call_cpu_start = super::host::thread_cpu_ns();
        }
        data.host_fault = None;
        data.limiter.memory_denied = false;
        store.set_epoch_deadline(self.epoch_ticks);
        if let Some(fuel) = self.fuel {
            // Fails only when fuel is off in the engine; fuel_enabled says it is on.
            let _ = store.set_fuel(fuel);
        }
    }
}

/// wasmplug's TrapCode numbering (include/wasmplug/error.hpp).
fn trap_code(trap: &Trap) -> u32 {
    match trap {
        Trap::StackOverflow => 1,
        Trap::MemoryOutOfBounds => 2,
        Trap::HeapMisaligned => 3,
        Trap::TableOutOfBounds => 4,
        Trap::IndirectCallToNull => 5,
        Trap::BadSignature => 6,
        Trap::IntegerOverflow => 7,
        Trap::IntegerDivisionByZero => 8,
        Trap::BadConversionToInteger => 9,
        Trap::UnreachableCodeReached => 10,
        Trap::Interrupt => 11,
        Trap::OutOfFuel => 12,
        _ => 14,
    }
}

const TRAP_HOST: u32 = 13;
const TRAP_OTHER: u32 = 14;

/// Messages a guest chooses (process-error text) are cut to 4 KiB, marked.
fn truncate(mut message: String) -> String {
    const MAX: usize = 4096;
    if message.len() > MAX {
        let total = message.len();
        let mut cut = MAX;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push_str(&format!("... [truncated {} bytes]", total - cut));
    }
    message
}

/// Wasmtime's messages carry a multi-line wasm backtrace; errors are one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// (status, detail, message) of a failed guest call.
fn classify(store: &mut Store<HostState>, e: wasmtime::Error) -> (u32, u32, String) {
    if let Some((kind, message)) = store.data_mut().host_fault.take() {
        return (STATUS_HOST_FAULT, kind, message);
    }
    let message = truncate(one_line(&format!("{e:#}")));
    match e.downcast_ref::<Trap>() {
        Some(t) => (STATUS_TRAP, trap_code(t), message),
        None => (STATUS_TRAP, if message.contains("host") { TRAP_HOST } else { TRAP_OTHER }, message),
    }
}

fn empty_outcome() -> WpTvOutcome {
    WpTvOutcome {
        status: STATUS_OK,
        detail: 0,
        memory_denied: 0,
        has_output: 0,
        dead: 0,
        cpu_overrun: 0,
        sequence: 0,
        timestamp_ns: 0,
        payload: std::ptr::null(),
        payload_len: 0,
        content_type: std::ptr::null(),
        content_type_len: 0,
        message: std::ptr::null(),
        message_len: 0,
    }
}

type CallResult<T> = wasmtime::Result<Result<T, ProcessError>>;

impl WpTvInstance {
    fn finish(&mut self, out: &mut WpTvOutcome, status: u32, detail: u32) -> u32 {
        out.status = status;
        out.detail = detail;
        out.message = self.message.as_ptr();
        out.message_len = self.message.len();
        status
    }

    fn fail(&mut self, e: wasmtime::Error, out: &mut WpTvOutcome) -> u32 {
        let (status, detail, message) = classify(&mut self.store, e);
        out.memory_denied = u32::from(self.store.data().limiter.memory_denied);
        out.cpu_overrun = u32::from(self.store.data().cpu_overrun);
        self.message = message;
        // Wasmtime refuses to enter a component instance again after a trap.
        self.dead = true;
        out.dead = 1;
        self.finish(out, status, detail)
    }

    fn process_error(&mut self, e: ProcessError, out: &mut WpTvOutcome) -> u32 {
        let (case, message) = match e {
            ProcessError::InvalidInput(m) => (0, m),
            ProcessError::Unavailable(m) => (1, m),
            ProcessError::Internal(m) => (2, m),
            ProcessError::DeadlineExceeded => (3, String::new()),
            ProcessError::Fatal(m) => (4, m),
        };
        self.message = truncate(message);
        self.finish(out, STATUS_PROCESS_ERROR, case)
    }

    /// Takes an emitted element out of the guest's hands into `out_*`.
    fn take_output(&mut self, o: OutputElement, out: &mut WpTvOutcome) -> u32 {
        let data = self.store.data_mut();
        let buffer: Result<Buffer, _> = data.table.delete(o.payload);
        let buffer = match buffer {
            Ok(b) => b,
            Err(e) => {
                self.message = format!("the emitted payload is not a live buffer: {e}");
                return self.finish(out, STATUS_HOST_FAULT, super::host::FAULT_ABI);
            }
        };
        data.refund(buffer.charge);
        if buffer.bytes.len() as u64 > self.max_output {
            self.message = format!(
                "the emitted payload of {} bytes is larger than the {} bytes allowed",
                buffer.bytes.len(),
                self.max_output
            );
            return self.finish(out, STATUS_OUTPUT_TOO_LARGE, 0);
        }
        if o.meta.content_type.len() > MAX_CONTENT_TYPE {
            self.message = format!(
                "the emitted element's content-type of {} bytes is longer than the {} bytes allowed",
                o.meta.content_type.len(),
                MAX_CONTENT_TYPE
            );
            return self.finish(out, STATUS_HOST_FAULT, super::host::FAULT_ABI);
        }
        self.out_bytes = buffer.bytes;
        // The element's own content-type wins; the buffer's is the fallback.
        self.out_content_type = if o.meta.content_type.is_empty() { buffer.content_type } else { o.meta.content_type };
        out.has_output = 1;
        out.sequence = o.meta.sequence;
        out.timestamp_ns = o.meta.timestamp_ns;
        out.payload = self.out_bytes.as_ptr();
        out.payload_len = self.out_bytes.len();
        out.content_type = self.out_content_type.as_ptr();
        out.content_type_len = self.out_content_type.len();
        self.ok(out, 0)
    }

    fn enter(&mut self, out: &mut WpTvOutcome) -> bool {
        *out = empty_outcome();
        if self.dead {
            self.message = "the instance trapped earlier and cannot be entered again".into();
            self.finish(out, STATUS_DEAD, 0);
            return false;
        }
        self.call.begin(&mut self.store);
        true
    }

    fn wrong_world(&mut self, what: &str, out: &mut WpTvOutcome) -> u32 {
        self.message = format!("the component's world does not export {what}");
        self.finish(out, STATUS_WRONG_WORLD, 0)
    }

    /// Puts the element's payload and context into the table for one call.
    fn push_element(&mut self, el: &WpTvElement) -> wasmtime::Result<(StreamElement, u32, u32)> {
        let content_type = unsafe { text(el.content_type, el.content_type_len) };
        let data = self.store.data_mut();
        data.flow.trace_id = unsafe { text(el.trace_id, el.trace_id_len) };
        data.flow.span_id = unsafe { text(el.span_id, el.span_id_len) };
        data.flow.flow_id = unsafe { text(el.flow_id, el.flow_id_len) };
        data.flow.deadline_ns = el.deadline_ns;
        let payload = data.table.push(Buffer {
            bytes: unsafe { slice(el.payload, el.payload_len) }.to_vec(),
            content_type: content_type.clone(),
            charge: 0,
        })?;
        let context = data.table.push(FlowContext)?;
        let (p, c) = (payload.rep(), context.rep());
        Ok((
            StreamElement {
                meta: ElementMeta { sequence: el.sequence, timestamp_ns: el.timestamp_ns, content_type },
                payload: Resource::new_borrow(p),
                context: Resource::new_borrow(c),
            },
            p,
            c,
        ))
    }

    fn pop_element(&mut self, p: u32, c: u32) {
        let table = &mut self.store.data_mut().table;
        let _ = table.delete(Resource::<Buffer>::new_own(p));
        let _ = table.delete(Resource::<FlowContext>::new_own(c));
    }

    fn element_call<T>(
        &mut self,
        el: &WpTvElement,
        out: &mut WpTvOutcome,
        call: impl FnOnce(&Bound, &mut Store<HostState>, &StreamElement) -> Option<CallResult<T>>,
        what: &str,
        done: impl FnOnce(&mut Self, T, &mut WpTvOutcome) -> u32,
    ) -> u32 {
        if !self.enter(out) {
            return out.status;
        }
        let (element, p, c) = match self.push_element(el) {
            Ok(x) => x,
            Err(e) => {
                self.message = format!("{e:?}");
                return self.finish(out, STATUS_HOST_ERROR, 0);
            }
        };
        let result = call(&self.bound, &mut self.store, &element);
        self.pop_element(p, c);
        self.conclude(result, what, out, done)
    }

    /// A call without an element (pull, init, complete ...): `call` picks the
    /// export of the bound world (None: the world has none), `done` turns its
    /// answer into the outcome.
    fn plain_call<T>(
        &mut self,
        out: &mut WpTvOutcome,
        what: &str,
        call: impl FnOnce(&Bound, &mut Store<HostState>) -> Option<CallResult<T>>,
        done: impl FnOnce(&mut Self, T, &mut WpTvOutcome) -> u32,
    ) -> u32 {
        if !self.enter(out) {
            return out.status;
        }
        let result = call(&self.bound, &mut self.store);
        self.conclude(result, what, out, done)
    }

    /// The outcome of one call: wrong world, the guest's answer, a process-error or a trap.
    fn conclude<T>(
        &mut self,
        result: Option<CallResult<T>>,
        what: &str,
        out: &mut WpTvOutcome,
        done: impl FnOnce(&mut Self, T, &mut WpTvOutcome) -> u32,
    ) -> u32 {
        match result {
            None => self.wrong_world(what, out),
            Some(Ok(Ok(v))) => done(self, v, out),
            Some(Ok(Err(pe))) => self.process_error(pe, out),
            Some(Err(e)) => self.fail(e, out),
        }
    }

    /// Success with `detail` and no message.
    fn ok(&mut self, out: &mut WpTvOutcome, detail: u32) -> u32 {
        self.message.clear();
        self.finish(out, STATUS_OK, detail)
    }
}

/// For exports that cannot answer a process-error: their answer as one that could.
fn infallible<T>(r: wasmtime::Result<T>) -> CallResult<T> {
    r.map(Ok)
}

macro_rules! inst {
    ($p:expr) => {
        unsafe { &mut *$p }
    };
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_process(inst: *mut WpTvInstance, el: *const WpTvElement, out: *mut WpTvOutcome) -> u32 {
    let (i, el, out) = (inst!(inst), unsafe { &*el }, unsafe { &mut *out });
    i.element_call(
        el,
        out,
        |b, store, e| match b {
            Bound::Transform(t) => Some(t.torvyn_streaming_processor().call_process(store, e)),
            Bound::Managed(t) => Some(t.torvyn_streaming_processor().call_process(store, e)),
            _ => None,
        },
        "processor.process",
        |i, r, out| match r {
            ProcessResult::Emit(o) => i.take_output(o, out),
            ProcessResult::Drop => i.ok(out, 1),
        },
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_push(inst: *mut WpTvInstance, el: *const WpTvElement, out: *mut WpTvOutcome) -> u32 {
    let (i, el, out) = (inst!(inst), unsafe { &*el }, unsafe { &mut *out });
    i.element_call(
        el,
        out,
        |b, store, e| match b {
            Bound::Sink(s) => Some(s.torvyn_streaming_sink().call_push(store, e)),
            _ => None,
        },
        "sink.push",
        |i, r, out| i.ok(out, u32::from(matches!(r, BackpressureSignal::Pause))),
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_pull(inst: *mut WpTvInstance, out: *mut WpTvOutcome) -> u32 {
    let (i, out) = (inst!(inst), unsafe { &mut *out });
    i.plain_call(
        out,
        "source.pull",
        |b, store| match b {
            Bound::Source(s) => Some(s.torvyn_streaming_source().call_pull(store)),
            _ => None,
        },
        |i, r, out| match r {
            Some(o) => i.take_output(o, out),
            None => i.ok(out, 1),
        },
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_notify_backpressure(inst: *mut WpTvInstance, pause: bool, out: *mut WpTvOutcome) -> u32 {
    let (i, out) = (inst!(inst), unsafe { &mut *out });
    let signal = if pause { BackpressureSignal::Pause } else { BackpressureSignal::Ready };
    i.plain_call(
        out,
        "source.notify-backpressure",
        |b, store| match b {
            Bound::Source(s) => Some(infallible(s.torvyn_streaming_source().call_notify_backpressure(store, signal))),
            _ => None,
        },
        |i, (), out| i.ok(out, 0),
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_complete(inst: *mut WpTvInstance, out: *mut WpTvOutcome) -> u32 {
    let (i, out) = (inst!(inst), unsafe { &mut *out });
    i.plain_call(
        out,
        "sink.complete",
        |b, store| match b {
            Bound::Sink(s) => Some(s.torvyn_streaming_sink().call_complete(store)),
            _ => None,
        },
        |i, (), out| i.ok(out, 0),
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_init(inst: *mut WpTvInstance, config: *const u8, config_len: usize, out: *mut WpTvOutcome) -> u32 {
    let (i, out) = (inst!(inst), unsafe { &mut *out });
    let config = unsafe { text(config, config_len) };
    i.plain_call(
        out,
        "lifecycle.init",
        |b, store| match b {
            Bound::Managed(b) => Some(b.torvyn_streaming_lifecycle().call_init(store, &config)),
            Bound::Source(b) => Some(b.torvyn_streaming_lifecycle().call_init(store, &config)),
            Bound::Sink(b) => Some(b.torvyn_streaming_lifecycle().call_init(store, &config)),
            Bound::Transform(_) => None,
        },
        |i, (), out| i.ok(out, 0),
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_teardown(inst: *mut WpTvInstance, out: *mut WpTvOutcome) -> u32 {
    let (i, out) = (inst!(inst), unsafe { &mut *out });
    i.plain_call(
        out,
        "lifecycle.teardown",
        |b, store| match b {
            Bound::Managed(b) => Some(infallible(b.torvyn_streaming_lifecycle().call_teardown(store))),
            Bound::Source(b) => Some(infallible(b.torvyn_streaming_lifecycle().call_teardown(store))),
            Bound::Sink(b) => Some(infallible(b.torvyn_streaming_lifecycle().call_teardown(store))),
            Bound::Transform(_) => None,
        },
        |i, (), out| i.ok(out, 0),
    )
}

/// Sets the fuel every later call starts with (and the store's fuel now).
/// False when fuel is off in the engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_set_fuel(inst: *mut WpTvInstance, fuel: u64) -> bool {
    let i = inst!(inst);
    if !i.call.fuel_enabled {
        return false;
    }
    i.call.fuel = Some(fuel);
    i.store.set_fuel(fuel).is_ok()
}

/// Fuel left (after the last call). False when fuel is off in the engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_fuel_remaining(inst: *const WpTvInstance, out: *mut u64) -> bool {
    let i = unsafe { &*inst };
    if !i.call.fuel_enabled {
        return false;
    }
    match i.store.get_fuel() {
        Ok(f) => {
            unsafe { *out = f };
            true
        }
        Err(_) => false,
    }
}

#[repr(C)]
pub struct WpTvMemory {
    pub linear_memory_bytes: u64,
    pub buffer_bytes: u64,
    pub buffer_budget_bytes: u64,
    pub budget_denials: u64,
    pub live_resources: u64,
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_memory_usage(inst: *const WpTvInstance, out: *mut WpTvMemory) {
    let d = unsafe { &*inst }.store.data();
    unsafe {
        *out = WpTvMemory {
            linear_memory_bytes: d.limiter.memory_used as u64,
            buffer_bytes: d.budget_used,
            buffer_budget_bytes: d.budget,
            budget_denials: d.budget_denials,
            live_resources: 0,
        }
    };
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_instance_free(inst: *mut WpTvInstance) {
    if !inst.is_null() {
        drop(unsafe { Box::from_raw(inst) });
    }
}

/// What the guest wrote to WASI stdout/stderr since the last take (the WASI
/// grant; nothing otherwise), and how many bytes past the cap were dropped.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wasmplug_tv_take_log(instance: *mut WpTvInstance, out: *mut WpTvBytes, dropped: *mut u64) {
    let inst = unsafe { &mut *instance };
    let (bytes, lost) = match &inst.store.data().wasi {
        Some(w) => w.log.take(),
        None => (Vec::new(), 0),
    };
    set_text_bytes(out, bytes);
    if !dropped.is_null() {
        unsafe { *dropped = lost };
    }
}

fn set_text_bytes(out: *mut WpTvBytes, bytes: Vec<u8>) {
    if !out.is_null() {
        // SAFETY: a valid out pointer from the caller.
        unsafe { *out = WpTvBytes::from_vec(bytes) };
    }
}
