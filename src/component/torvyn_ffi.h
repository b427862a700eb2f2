/* The C side of the torvyn host in the Rust staticlib (rust/src/torvyn/ffi.rs).
 * Typed Wasmtime component bindings live in Rust; C++ sees only these opaque
 * handles and plain structs. Keep both files in step: the layouts must match.
 *
 * Thread-safety: a component is immutable after wasmplug_tv_admit and may be
 * instantiated from any thread; an instance is used by one thread at a time.
 * Payload bytes and strings an outcome points to are owned by the instance and
 * valid until its next call (or its free). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_tv_component wasmplug_tv_component;
typedef struct wasmplug_tv_instance wasmplug_tv_instance;

enum {
  WASMPLUG_TV_WORLD_TRANSFORM = 0,
  WASMPLUG_TV_WORLD_MANAGED_TRANSFORM = 1,
  WASMPLUG_TV_WORLD_DATA_SOURCE = 2,
  WASMPLUG_TV_WORLD_DATA_SINK = 3,
};

enum {
  WASMPLUG_TV_OK = 0,
  WASMPLUG_TV_PROCESS_ERROR = 1,     /* detail: 0 invalid-input 1 unavailable 2 internal 3 deadline-exceeded 4 fatal */
  WASMPLUG_TV_TRAP = 2,              /* detail: wasmplug::TrapCode */
  WASMPLUG_TV_HOST_FAULT = 3,        /* the host failed the call: the guest broke the contract */
  WASMPLUG_TV_OUTPUT_TOO_LARGE = 4,  /* an emitted payload past max_output_bytes */
  WASMPLUG_TV_DEAD = 5,              /* the instance trapped before; make a new one */
  WASMPLUG_TV_WRONG_WORLD = 6,       /* the world does not export that function */
  WASMPLUG_TV_HOST_ERROR = 7,        /* the host could not set the call up */
};

/* Bytes owned by Rust; free with wasmplug_tv_bytes_free. */
typedef struct wasmplug_tv_bytes {
  uint8_t* data;
  size_t len;
  size_t cap;
} wasmplug_tv_bytes;

typedef struct wasmplug_tv_limits {
  uint64_t memory_bytes;         /* all linear memories of the instance together */
  uint64_t table_elements;
  uint64_t max_buffer_bytes;     /* one buffer's capacity */
  uint64_t buffer_budget_bytes;  /* bytes all live buffers hold together */
  uint64_t max_output_bytes;     /* an emitted payload */
  uint64_t deadline_ns;          /* wall clock, per call */
  uint64_t epoch_ticks;          /* when to first look at the clock */
  uint64_t fuel;                 /* per call, when fuel_metered */
  uint32_t fuel_metered;
  uint32_t fuel_enabled;         /* the engine consumes fuel */
  uint64_t wasi_log_bytes;       /* WASI grant: stdout+stderr bytes kept per call */
  uint64_t cpu_deadline_ns;      /* thread CPU time per call; 0 = none */
} wasmplug_tv_limits;

typedef struct wasmplug_tv_element {
  const uint8_t* payload;
  size_t payload_len;
  const char* content_type;
  size_t content_type_len;
  const char* trace_id;
  size_t trace_id_len;
  const char* span_id;
  size_t span_id_len;
  const char* flow_id;
  size_t flow_id_len;
  uint64_t sequence;
  uint64_t timestamp_ns;
  uint64_t deadline_ns; /* absolute CLOCK_MONOTONIC ns; 0 = none */
} wasmplug_tv_element;

typedef struct wasmplug_tv_outcome {
  uint32_t status;
  uint32_t detail; /* OK: 0 emit/some/ready/done, 1 drop/none/pause */
  uint32_t memory_denied;
  uint32_t has_output;
  uint32_t dead; /* the call trapped: this instance cannot be entered again */
  uint32_t cpu_overrun; /* the Interrupt trap was the CPU deadline */
  uint64_t sequence;
  uint64_t timestamp_ns;
  const uint8_t* payload;
  size_t payload_len;
  const char* content_type;
  size_t content_type_len;
  const char* message;
  size_t message_len;
} wasmplug_tv_outcome;

typedef struct wasmplug_tv_memory {
  uint64_t linear_memory_bytes;
  uint64_t buffer_bytes;
  uint64_t buffer_budget_bytes;
  uint64_t budget_denials;
  uint64_t live_resources;
} wasmplug_tv_memory;

void wasmplug_tv_bytes_free(wasmplug_tv_bytes* bytes);

/* The engine must be the one the C API made (its pooling, epoch and fuel
 * settings apply to components too). */
bool wasmplug_tv_compile(const wasm_engine_t* engine, const uint8_t* bytes, size_t len,
                         wasmplug_tv_component** out, wasmplug_tv_bytes* error);
/* Only bytes wasmplug_tv_serialize produced (authenticated by the cache). */
bool wasmplug_tv_deserialize(const wasm_engine_t* engine, const uint8_t* bytes, size_t len,
                             wasmplug_tv_component** out, wasmplug_tv_bytes* error);
bool wasmplug_tv_serialize(const wasmplug_tv_component* component, wasmplug_tv_bytes* out,
                           wasmplug_tv_bytes* error);
void wasmplug_tv_component_free(wasmplug_tv_component* component);
/* Lines "import\tNAME\tKIND", "export\tNAME\tKIND", "problem\tSENTENCE".
 * True (admitted) also prepares typed instantiation. Not thread-safe: call
 * once, before sharing the component. */
/* `wasi`: the embedder grants WASI 0.2 (wasmtime-wasi p2, scoped). */
bool wasmplug_tv_admit(wasmplug_tv_component* component, uint32_t world, bool wasi, wasmplug_tv_bytes* report);

uint32_t wasmplug_tv_instantiate(const wasmplug_tv_component* component, const wasmplug_tv_limits* limits,
                                 wasmplug_tv_instance** out, wasmplug_tv_bytes* error);
void wasmplug_tv_instance_free(wasmplug_tv_instance* instance);

uint32_t wasmplug_tv_process(wasmplug_tv_instance* instance, const wasmplug_tv_element* element,
                             wasmplug_tv_outcome* out);
uint32_t wasmplug_tv_push(wasmplug_tv_instance* instance, const wasmplug_tv_element* element,
                          wasmplug_tv_outcome* out);
uint32_t wasmplug_tv_pull(wasmplug_tv_instance* instance, wasmplug_tv_outcome* out);
uint32_t wasmplug_tv_notify_backpressure(wasmplug_tv_instance* instance, bool pause, wasmplug_tv_outcome* out);
uint32_t wasmplug_tv_complete(wasmplug_tv_instance* instance, wasmplug_tv_outcome* out);
uint32_t wasmplug_tv_init(wasmplug_tv_instance* instance, const char* config, size_t config_len,
                          wasmplug_tv_outcome* out);
uint32_t wasmplug_tv_teardown(wasmplug_tv_instance* instance, wasmplug_tv_outcome* out);

bool wasmplug_tv_set_fuel(wasmplug_tv_instance* instance, uint64_t fuel);
bool wasmplug_tv_fuel_remaining(const wasmplug_tv_instance* instance, uint64_t* out);
/* What the guest wrote to WASI stdout/stderr since the last take (nothing
 * without the WASI grant); *dropped: bytes past wasi_log_bytes. */
void wasmplug_tv_take_log(wasmplug_tv_instance* instance, wasmplug_tv_bytes* out, uint64_t* dropped);
void wasmplug_tv_memory_usage(const wasmplug_tv_instance* instance, wasmplug_tv_memory* out);

#ifdef __cplusplus
}
#endif
