//! The host side of `types` and `buffer-allocator`: buffers live in host
//! memory (a ResourceTable per instance), never in the guest's.

use super::bindings::{buffer_allocator, types};
use types::BufferError;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Result, format_err};

/// What every buffer costs against the budget beyond its bytes: the table
/// entry and the allocation headers. Makes a flood of empty buffers hit the
/// budget like large ones do.
pub const BUFFER_OVERHEAD: u64 = 64;
/// Longest content-type string the host keeps; longer ones trap the call.
pub const MAX_CONTENT_TYPE: usize = 256;

pub struct Buffer {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// What this buffer holds of the instance's budget.
    pub charge: u64,
}

pub struct MutableBuffer {
    pub bytes: Vec<u8>,
    pub capacity: u64,
    pub content_type: String,
    pub charge: u64,
    /// freeze() moved the bytes out: writes fail from now on.
    pub frozen: bool,
}

/// The flow context of the element being processed. The values live in
/// `HostState::flow` (one per call); the resource is only a handle to them.
pub struct FlowContext;

#[derive(Default)]
pub struct Flow {
    pub trace_id: String,
    pub span_id: String,
    pub flow_id: String,
    /// Absolute deadline of the element (0 = none), as CLOCK_MONOTONIC ns.
    pub deadline_ns: u64,
}

/// Linear memory and table bounds of one instance (all its core instances
/// together), and what it uses.
pub struct Limiter {
    pub max_memory: usize,
    pub max_table_elements: usize,
    pub memory_used: usize,
    pub memory_denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        let grow = desired.saturating_sub(current);
        if self.memory_used.saturating_add(grow) > self.max_memory {
            self.memory_denied = true;
            return Ok(false);
        }
        self.memory_used += grow;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(desired <= self.max_table_elements)
    }

    fn instances(&self) -> usize {
        32
    }
    fn tables(&self) -> usize {
        32
    }
    fn memories(&self) -> usize {
        8
    }
}

pub struct HostState {
    pub table: ResourceTable,
    pub limiter: Limiter,
    /// Largest buffer (bytes) a component may allocate or grow to.
    pub max_buffer: u64,
    /// Bytes all live buffers of this instance may hold together.
    pub budget: u64,
    pub budget_used: u64,
    pub budget_denials: u64,
    pub flow: Flow,
    /// Wall-clock deadline of the current call.
    pub call_deadline: Option<std::time::Instant>,
    /// A WASI clock subscription of this call was cut at the deadline: the
    /// epoch callback then looks at every check, so that the guest is
    /// stopped at the first one after its cut sleep, not at the next tick.
    pub sleep_cut: bool,
    /// The call was found past its deadline once and given one more epoch
    /// tick (a thread descheduled across the deadline finishes its call).
    pub deadline_grace_used: bool,
    /// Limits::cpu_deadline (thread CPU ns per call; None = none), and the
    /// thread's CPU time when the current call began.
    pub cpu_budget: Option<u64>,
    pub call_cpu_start: u64,
    /// The epoch callback stopped the call for its CPU deadline.
    pub cpu_overrun: bool,
    /// Why the host failed the call (a trap it raised), for the error message.
    pub host_fault: Option<(u32, String)>,
    /// The WASI grant's state; None when the embedder did not grant WASI.
    pub wasi: Option<super::wasi::Wasi>,
}

/// Host faults: the kind the C++ side reports.
pub const FAULT_ABI: u32 = 1;

impl HostState {
    fn fault(&mut self, kind: u32, message: String) -> wasmtime::Error {
        let err = format_err!("{message}");
        self.host_fault = Some((kind, message));
        err
    }

    fn charge(&mut self, bytes: u64) -> Result<u64, BufferError> {
        let cost = bytes.saturating_add(BUFFER_OVERHEAD);
        if self.budget_used.saturating_add(cost) > self.budget {
            self.budget_denials += 1;
            return Err(BufferError::AllocationFailed(format!(
                "buffer memory budget exhausted: {} of {} bytes held by live buffers, {} more requested",
                self.budget_used, self.budget, cost
            )));
        }
        self.budget_used += cost;
        Ok(cost)
    }

    pub fn refund(&mut self, charge: u64) {
        self.budget_used = self.budget_used.saturating_sub(charge);
    }

    fn check_content_type(&mut self, value: &str) -> Result<()> {
        if value.len() > MAX_CONTENT_TYPE {
            return Err(self.fault(
                FAULT_ABI,
                format!("content-type of {} bytes is longer than the {} bytes allowed", value.len(), MAX_CONTENT_TYPE),
            ));
        }
        Ok(())
    }

    /// Makes `bytes` the bytes of a mutable buffer that holds `needed`
    /// bytes, growing its capacity (and its charge) when needed.
    fn ensure_capacity(&mut self, buf: &Resource<MutableBuffer>, needed: u64) -> Result<Result<(), BufferError>> {
        let (capacity, charge) = {
            let b = self.table.get(buf).map_err(|e| format_err!("ensure_capacity: {e}"))?;
            (b.capacity, b.charge)
        };
        if needed <= capacity {
            return Ok(Ok(()));
        }
        if needed > self.max_buffer {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        let extra = needed - capacity;
        if self.budget_used.saturating_add(extra) > self.budget {
            self.budget_denials += 1;
            return Ok(Err(BufferError::AllocationFailed(format!(
                "buffer memory budget exhausted: {} of {} bytes held by live buffers, {} more requested",
                self.budget_used, self.budget, extra
            ))));
        }
        self.budget_used += extra;
        let b = self.table.get_mut(buf).map_err(|e| format_err!("ensure_capacity: {e}"))?;
        b.capacity = needed;
        b.charge = charge + extra;
        Ok(Ok(()))
    }

    fn new_mutable(&mut self, bytes: Vec<u8>, capacity: u64, content_type: String) -> Result<Result<Resource<MutableBuffer>, BufferError>> {
        if capacity > self.max_buffer {
            return Ok(Err(BufferError::CapacityExceeded));
        }
        let charge = match self.charge(capacity) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        match self.table.push(MutableBuffer { bytes, capacity, content_type, charge, frozen: false }) {
            Ok(r) => Ok(Ok(r)),
            Err(e) => {
                self.refund(charge);
                Err(e.into())
            }
        }
    }
}

fn frozen_error() -> BufferError {
    BufferError::AllocationFailed("the mutable-buffer was frozen; it takes no more bytes".into())
}

/// u64 offset/length from the guest as a host index; buffers never exceed
/// 16 MiB, so anything past u32 is simply out of range.
fn fit(value: u64) -> Option<usize> {
    u32::try_from(value).ok().map(|v| v as usize)
}

impl types::Host for HostState {}

impl types::HostBuffer for HostState {
    fn size(&mut self, this: Resource<Buffer>) -> Result<u64> {
        Ok(self.table.get(&this).map_err(|e| format_err!("size: {e}"))?.bytes.len() as u64)
    }

    fn content_type(&mut self, this: Resource<Buffer>) -> Result<String> {
        Ok(self.table.get(&this).map_err(|e| format_err!("content_type: {e}"))?.content_type.clone())
    }

    fn read(&mut self, this: Resource<Buffer>, offset: u64, len: u64) -> Result<Vec<u8>> {
        let bytes = &self.table.get(&this).map_err(|e| format_err!("read: {e}"))?.bytes;
        let start = fit(offset).unwrap_or(usize::MAX).min(bytes.len());
        let len = fit(len).unwrap_or(u32::MAX as usize);
        let end = start.saturating_add(len).min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    fn read_all(&mut self, this: Resource<Buffer>) -> Result<Vec<u8>> {
        Ok(self.table.get(&this).map_err(|e| format_err!("read_all: {e}"))?.bytes.clone())
    }

    fn drop(&mut self, rep: Resource<Buffer>) -> Result<()> {
        let b = self.table.delete(rep).map_err(|e| format_err!("drop: {e}"))?;
        self.refund(b.charge);
        Ok(())
    }
}

impl types::HostMutableBuffer for HostState {
    fn write(&mut self, this: Resource<MutableBuffer>, offset: u64, bytes: Vec<u8>) -> Result<Result<(), BufferError>> {
        let b = self.table.get(&this).map_err(|e| format_err!("write: {e}"))?;
        if b.frozen {
            return Ok(Err(frozen_error()));
        }
        let size = b.bytes.len();
        let Some(offset) = fit(offset).filter(|o| *o <= size) else {
            return Ok(Err(BufferError::OutOfBounds));
        };
        let end = offset as u64 + bytes.len() as u64;
        if let Err(e) = self.ensure_capacity(&this, end)? {
            return Ok(Err(e));
        }
        let b = self.table.get_mut(&this).map_err(|e| format_err!("write: {e}"))?;
        let overlap = (b.bytes.len() - offset).min(bytes.len());
        b.bytes[offset..offset + overlap].copy_from_slice(&bytes[..overlap]);
        b.bytes.extend_from_slice(&bytes[overlap..]);
        Ok(Ok(()))
    }

    fn append(&mut self, this: Resource<MutableBuffer>, bytes: Vec<u8>) -> Result<Result<(), BufferError>> {
        let b = self.table.get(&this).map_err(|e| format_err!("append: {e}"))?;
        if b.frozen {
            return Ok(Err(frozen_error()));
        }
        let size = b.bytes.len() as u64;
        if let Err(e) = self.ensure_capacity(&this, size + bytes.len() as u64)? {
            return Ok(Err(e));
        }
        self.table.get_mut(&this).map_err(|e| format_err!("append: {e}"))?.bytes.extend_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn size(&mut self, this: Resource<MutableBuffer>) -> Result<u64> {
        Ok(self.table.get(&this).map_err(|e| format_err!("size: {e}"))?.bytes.len() as u64)
    }

    fn capacity(&mut self, this: Resource<MutableBuffer>) -> Result<u64> {
        Ok(self.table.get(&this).map_err(|e| format_err!("capacity: {e}"))?.capacity)
    }

    fn set_content_type(&mut self, this: Resource<MutableBuffer>, content_type: String) -> Result<()> {
        self.check_content_type(&content_type)?;
        self.table.get_mut(&this).map_err(|e| format_err!("set_content_type: {e}"))?.content_type = content_type;
        Ok(())
    }

    fn freeze(&mut self, this: Resource<MutableBuffer>) -> Result<Resource<Buffer>> {
        // WIT methods borrow `self`: the guest keeps its handle and drops it
        // later, so the entry stays (empty, frozen) until then and the bytes
        // move to a new immutable buffer.
        let m = self.table.get_mut(&this).map_err(|e| format_err!("freeze: {e}"))?;
        if m.frozen {
            return Err(self.fault(FAULT_ABI, "freeze of a mutable-buffer that was frozen already".into()));
        }
        m.frozen = true;
        let mut bytes = std::mem::take(&mut m.bytes);
        let content_type = std::mem::take(&mut m.content_type);
        let old_charge = std::mem::replace(&mut m.charge, 0);
        m.capacity = 0;
        // A frozen buffer holds its bytes, not its spare capacity.
        let charge = (bytes.len() as u64 + BUFFER_OVERHEAD).min(old_charge);
        self.refund(old_charge - charge);
        bytes.shrink_to_fit();
        self.table
            .push(Buffer { bytes, content_type, charge })
            .map_err(|e| format_err!("freeze: {e}"))
    }

    fn drop(&mut self, rep: Resource<MutableBuffer>) -> Result<()> {
        let b = self.table.delete(rep).map_err(|e| format_err!("drop: {e}"))?;
        self.refund(b.charge);
        Ok(())
    }
}

impl types::HostFlowContext for HostState {
    fn trace_id(&mut self, _this: Resource<FlowContext>) -> Result<String> {
        Ok(self.flow.trace_id.clone())
    }
    fn span_id(&mut self, _this: Resource<FlowContext>) -> Result<String> {
        Ok(self.flow.span_id.clone())
    }
    fn deadline_ns(&mut self, _this: Resource<FlowContext>) -> Result<u64> {
        if self.flow.deadline_ns == 0 {
            return Ok(0);
        }
        // Remaining time; 1 when it has passed (0 would mean "no deadline").
        let now = monotonic_ns();
        Ok(self.flow.deadline_ns.saturating_sub(now).max(1))
    }
    fn flow_id(&mut self, _this: Resource<FlowContext>) -> Result<String> {
        Ok(self.flow.flow_id.clone())
    }
    fn drop(&mut self, rep: Resource<FlowContext>) -> Result<()> {
        self.table.delete(rep).map_err(|e| format_err!("drop: {e}"))?;
        Ok(())
    }
}

impl buffer_allocator::Host for HostState {
    fn allocate(&mut self, capacity_hint: u64) -> Result<Result<Resource<MutableBuffer>, BufferError>> {
        self.new_mutable(Vec::new(), capacity_hint, String::new())
    }

    fn clone_into_mutable(&mut self, source: Resource<Buffer>) -> Result<Result<Resource<MutableBuffer>, BufferError>> {
        let (bytes, content_type) = {
            let b = self.table.get(&source).map_err(|e| format_err!("clone_into_mutable: {e}"))?;
            (b.bytes.clone(), b.content_type.clone())
        };
        let capacity = bytes.len() as u64;
        self.new_mutable(bytes, capacity, content_type)
    }
}

pub fn monotonic_ns() -> u64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec to a valid pointer.
    unsafe { clock_gettime(1, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec to a valid pointer.
    unsafe { clock_gettime(3, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}
