// wasmplug — pipelines: a source, a chain of processors and a sink, connected
// by bounded queues, run on every core with input order kept, every record
// accounted for (docs/pipelines.md). No Wasmtime types: plugin processors go
// through the public Runtime API.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"
#include "wasmplug/torvyn.hpp"

namespace wasmplug::pipeline {

/// What became of a record, once it left the pipeline.
enum class Outcome : std::uint8_t {
  Pending,  ///< still travelling (never seen by a sink or an acknowledge())
  Out,      ///< written by the sink
  Dropped,  ///< a processor dropped it (a filter said no)
  Failed,   ///< a stage failed it; it is in the dead-letter file
};
[[nodiscard]] std::string_view to_string(Outcome outcome) noexcept;

/// Why a record failed, kept with it until it reaches the dead-letter file.
struct RecordError {
  std::string stage;    ///< the stage's name ("source", a processor's name, "sink")
  std::string kind;     ///< an ErrorKind name, or "InvalidInput" / "Incomplete"
  std::string phase;    ///< a Phase name, or "input"
  std::string message;
};

/// Records travelling together through the stages: one contiguous byte
/// buffer and an entry per record. A source fills it; the pipeline moves it
/// through every processor on one worker thread and hands it to the sink in
/// the order the source produced it. Not thread-safe (one stage at a time).
class RecordBatch {
 public:
  /// One record's place in the batch.
  struct Entry {
    std::size_t offset = 0;  ///< into data()
    std::size_t length = 0;
    /// Chosen by the source and handed back in acknowledge(): a line number,
    /// a Kafka offset. The pipeline only carries it.
    std::uint64_t position = 0;
    /// The record's flow (a Kafka partition, say). Order is kept within
    /// every flow; the pipeline also keeps it across flows today.
    std::uint32_t flow = 0;
    Outcome outcome = Outcome::Pending;
    std::uint64_t bytes = 0;  ///< the record's length as the source read it
    bool prefix_only = false;  ///< only a prefix was ever held (add_failed with a longer full_bytes)
    std::uint32_t error = 0;  ///< 1-based index into errors() when Failed
    std::uint32_t content_type = 0;  ///< 1-based index of its content type; 0: none
  };

  /// Appends a record (copied).
  void add(std::string_view bytes, std::uint64_t position, std::uint32_t flow = 0);
  /// Appends a record that failed before it got here (too long, cut off):
  /// `prefix` is what was kept of it, `full_bytes` its real length.
  void add_failed(std::string_view prefix, std::uint64_t full_bytes, std::uint64_t position, RecordError error,
                  std::uint32_t flow = 0);

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
  [[nodiscard]] std::size_t byte_size() const noexcept { return data_.size(); }
  [[nodiscard]] const Entry& entry(std::size_t i) const noexcept { return entries_[i]; }
  [[nodiscard]] std::span<const Entry> entries() const noexcept { return entries_; }
  /// The record's current bytes (after the processors that ran so far).
  [[nodiscard]] std::string_view record(std::size_t i) const noexcept {
    return {data_.data() + entries_[i].offset, entries_[i].length};
  }
  /// The record's content type (a component stage's); empty when none was given.
  [[nodiscard]] std::string_view content_type(std::size_t i) const noexcept {
    const std::uint32_t k = entries_[i].content_type;
    return k == 0 ? std::string_view{} : std::string_view{content_types_[k - 1]};
  }
  /// Sets it (kept once per distinct type in the batch).
  void set_content_type(std::size_t i, std::string_view type);
  /// Why entry(i) failed; precondition: entry(i).outcome == Failed.
  [[nodiscard]] const RecordError& error(std::size_t i) const noexcept { return errors_[entries_[i].error - 1]; }
  /// Empties the batch, keeping its capacity.
  void clear() noexcept;

  /// For the pipeline's workers: marks a record failed / dropped, and
  /// replaces records' bytes stage by stage (see detail in src/pipeline).
  void fail(std::size_t i, RecordError error);
  void drop(std::size_t i) noexcept { entries_[i].outcome = Outcome::Dropped; }
  void mark_out(std::size_t i) noexcept { entries_[i].outcome = Outcome::Out; }
  std::string& scratch() noexcept { return next_; }
  void set_record(std::size_t i, std::size_t offset, std::size_t length) noexcept {
    entries_[i].offset = offset;
    entries_[i].length = length;
  }
  /// Makes scratch() the data (after a stage rewrote every live record into it).
  void swap_scratch() noexcept { data_.swap(next_); }
  std::uint64_t sequence = 0;  ///< the pipeline's batch number

 private:
  std::string data_;
  std::string next_;
  std::vector<Entry> entries_;
  std::vector<RecordError> errors_;
  std::vector<std::string> content_types_;
};

/// What a source's pull produced.
enum class PullStatus : std::uint8_t {
  Records,  ///< the batch holds records (maybe none yet: pull again)
  End,      ///< no more records, ever (the batch may still hold the last ones)
};

/// A record as the source learns of its end, in the order the source produced them.
struct Ack {
  std::uint64_t position = 0;
  std::uint32_t flow = 0;
  Outcome outcome = Outcome::Out;
  /// When Failed: why (for a source with a dead-letter topic of its own).
  /// Valid only during Source::acknowledge.
  const RecordError* error = nullptr;
  /// When Failed: the record's bytes as the failing stage got them. Valid
  /// only during Source::acknowledge.
  std::string_view bytes;
};

/// A flow starting or ending, as a source reports it (Source::flow_events).
struct FlowEvent {
  enum class Kind : std::uint8_t {
    Opened,  ///< records of the flow follow (a Kafka partition was assigned)
    Closed,  ///< no more records of the flow (revoked, and what the pipeline held of it acknowledged)
  };
  Kind kind = Kind::Opened;
  std::uint32_t flow = 0;
};

/// Produces records. pull() and acknowledge() run on the pipeline's source
/// thread and sink thread respectively (never concurrently with themselves);
/// interrupt() on any thread.
class Source {
 public:
  virtual ~Source() = default;
  /// Appends up to `max_records` records / about `max_bytes` bytes to
  /// `batch`. May block for input; must return soon after interrupt().
  /// A record the source cannot deliver whole (over the size limit) goes in
  /// with add_failed: it is a failed record, never a crash or a silent loss.
  /// An error ends the pipeline (it reports the error after draining).
  [[nodiscard]] virtual Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records,
                                                std::size_t max_bytes) = 0;
  /// Records that left the pipeline (written by the sink, dropped, or
  /// written to the dead-letter file), in production order: a Kafka source
  /// commits offsets here. Default: nothing.
  virtual void acknowledge(std::span<const Ack> acks) { (void)acks; }
  /// Backpressure, on the source thread: `paused` = true when every batch
  /// is in flight and the source has to wait (the queues are full), false
  /// once a batch came back, before the next pull. A component source
  /// passes it on as notify-backpressure; a Kafka source pauses fetching of
  /// its partitions once it lasts. Default: nothing.
  virtual void backpressure(bool paused) { (void)paused; }
  /// Flow lifecycle (optional): appends to `events` the flows opened and
  /// closed since the last call, in order. The pipeline asks after every
  /// pull, on the source thread, and applies them before the records that
  /// pull added go on: records of a flow must come after its Opened, and
  /// none of it after its Closed (until it is opened again). A flow id may
  /// be opened again after it closed. Default: none (every record's flow is
  /// unopened, and processors treat it as they always did).
  virtual void flow_events(std::vector<FlowEvent>& events) { (void)events; }
  /// Stop producing: the next (or a blocked) pull returns what is already
  /// buffered and then End. Thread-safe; may be called more than once.
  virtual void interrupt() noexcept = 0;
};

/// What the pipeline knows of a record besides its bytes (Processor::process_record).
struct RecordMeta {
  std::uint32_t flow = 0;      ///< RecordBatch::Entry::flow
  std::uint64_t position = 0;  ///< RecordBatch::Entry::position (a component source's sequence)
  /// The record's content type; empty when no stage gave one.
  std::string content_type;
};

/// What a processor did with one record.
enum class Verdict : std::uint8_t {
  Emit,  ///< the record's new bytes were appended to `out`
  Keep,  ///< the record passes unchanged
  Drop,  ///< the record is dropped (counted, acknowledged as Dropped)
};

/// One step of the chain: bytes in, bytes out, keep or drop. Called on every
/// worker thread at once: must be thread-safe. Must not throw (an exception
/// fails the record as InternalError, but costs a catch per batch).
///
/// Flows (a Kafka partition each): when the source reports them
/// (Source::flow_events) the pipeline calls open_flow(F) before any record
/// of F reaches the processor, and close_flow(F) once every record of F it
/// handed on has left the pipeline (written, dropped or failed); both on the
/// pipeline's source thread, while workers process records of other flows,
/// never while a record of F is being processed. Flows still open when the
/// run ends are closed after the last batch. Records of a flow that is not
/// open (every record of a file source: flow 0, never opened) may come at
/// any time. Two workers may process records of one flow at once
/// (consecutive batches): a processor with per-flow state serialises them.
class Processor {
 public:
  virtual ~Processor() = default;
  /// Processes `record`; on Emit appends the new bytes to `out` (and nothing
  /// else). An error fails this record only; the processor stays in service.
  [[nodiscard]] virtual Result<Verdict> process(std::string_view record, std::string& out) const = 0;
  /// What the pipeline calls: as process, knowing what else the pipeline
  /// knows of the record (its flow, position and content type). On Emit the
  /// processor may replace meta.content_type with its output's (a component
  /// emitting another type); left as it is, the type carries on unchanged.
  /// Default: process(record, out).
  [[nodiscard]] virtual Result<Verdict> process_record(std::string_view record, RecordMeta& meta,
                                                       std::string& out) const {
    (void)meta;
    return process(record, out);
  }
  /// The flow starts: records of it follow. Default: nothing.
  virtual void open_flow(std::uint32_t flow) { (void)flow; }
  /// The flow ended and none of its records is in the processor. Default: nothing.
  virtual void close_flow(std::uint32_t flow) { (void)flow; }
};

/// What a sink says after taking a batch.
enum class SinkStatus : std::uint8_t {
  Ready,  ///< send more
  Pause,  ///< accepted; call wait_ready() before the next push
};

/// Consumes the records that came out (Outcome::Out entries of a batch), on
/// the pipeline's sink thread, batch by batch in production order.
class Sink {
 public:
  virtual ~Sink() = default;
  /// Writes the batch's Out records. When push returns Ready or Pause those
  /// records are out (written to the fd, produced and confirmed ...): the
  /// source is told so. An error ends the pipeline: records of this batch
  /// and later count as failed (sink stage), never as out.
  [[nodiscard]] virtual Result<SinkStatus> push(const RecordBatch& batch) = 0;
  /// What the pipeline calls: as push, for a sink that can fail single
  /// records. It may mark Out entries Failed (batch.fail): those go to the
  /// dead-letter file and count as failed by the sink; the rest are out.
  /// Default: push(batch).
  [[nodiscard]] virtual Result<SinkStatus> push_records(RecordBatch& batch) { return push(batch); }
  /// After Pause: blocks until the sink takes more (Ready), or up to `wait`
  /// (Pause: asked again). Backpressure: meanwhile the queues fill and the
  /// source stops reading. Default: Ready.
  [[nodiscard]] virtual Result<SinkStatus> wait_ready(std::chrono::milliseconds wait) {
    (void)wait;
    return SinkStatus::Ready;
  }
  /// No more batches: flush and close. Its error fails the pipeline run.
  [[nodiscard]] virtual Result<void> complete() = 0;
};

/// How a file source splits bytes into records, and a file sink joins them.
enum class Framing : std::uint8_t {
  Lines,           ///< one record per '\n'-terminated line ("\r\n" too); blank lines skipped
  LengthPrefixed,  ///< each record is a 4-byte big-endian length, then that many bytes
};

/// Tunables of one pipeline run. Validated by Pipeline::create (InvalidArgument naming the field).
struct PipelineOptions {
  /// Worker threads running processors; 0 = one per core. 1..256.
  std::uint32_t threads = 0;
  /// Records per batch (the unit handed between stages). 1..1,000,000.
  std::uint32_t batch_records = 256;
  /// A batch closes once its bytes reach this. 1 KiB..64 MiB.
  std::uint32_t batch_bytes = 256u << 10;
  /// Batches in flight between source and sink (read, processing, waiting
  /// for the sink): the bounded queue. When all are taken the source stops
  /// reading. 0 = 2 x threads + 2. 2..4096.
  std::uint32_t queue_batches = 0;
  /// Bytes one batch may hold after a processor (all its records' new
  /// bytes): a plugin that amplifies its input (up to its output limit per
  /// record) cannot multiply memory by batch_records x queue_batches. A
  /// record whose output passes it fails (LimitExceeded, dead-lettered).
  /// 1 MiB..1 GiB.
  std::uint32_t max_batch_output_bytes = 16u << 20;
  /// Dead-letter file (JSON lines); "-" = stderr. Created/truncated.
  std::string dead_letter = "-";
  /// Bytes of a failed record the dead-letter line keeps; a longer record
  /// is kept as that prefix with its full length and SHA-256. 0..16 MiB.
  std::uint32_t max_dead_letter_record_bytes = 4096;
};

/// Counters of one stage (source, each processor, sink).
struct StageStats {
  std::string name;
  std::string type;
  std::uint64_t in = 0;       ///< records that reached the stage
  std::uint64_t out = 0;      ///< records it passed on (a sink: wrote)
  std::uint64_t dropped = 0;  ///< records it dropped
  std::uint64_t failed = 0;   ///< records it failed (dead-lettered)
  std::uint64_t bytes_in = 0;
  double busy_seconds = 0;    ///< time spent in the stage (workers summed)
  double paused_seconds = 0;  ///< source: waiting for a free batch; sink: paused
};

/// A snapshot of a pipeline. Once it finished, totals hold
/// records_in == out + dropped + failed.
struct PipelineStats {
  std::vector<StageStats> stages;  ///< source, processors in order, sink
  std::uint64_t records_in = 0;    ///< records the source produced
  std::uint64_t out = 0;
  std::uint64_t dropped = 0;
  std::uint64_t failed = 0;
  std::uint64_t in_flight = 0;         ///< records between source and sink right now
  std::uint32_t queue_batches = 0;     ///< batches in flight right now
  std::uint32_t queue_capacity = 0;    ///< PipelineOptions::queue_batches as used
  std::uint32_t threads = 0;
  double seconds = 0;
  bool finished = false;
  bool interrupted = false;  ///< stop() was called before the source ended
};

/// A stage with its name (used in stats, metrics and the dead-letter file).
struct NamedProcessor {
  std::string name;
  std::string type;  ///< for stats ("plugin", "native" ...)
  std::unique_ptr<Processor> processor;
};

class Pipeline {
 public:
  /// Validates `options`; nothing runs yet. InvalidArgument naming the bad field.
  [[nodiscard]] static Result<std::unique_ptr<Pipeline>> create(PipelineOptions options,
                                                                std::unique_ptr<Source> source,
                                                                std::vector<NamedProcessor> processors,
                                                                std::unique_ptr<Sink> sink,
                                                                std::string source_type = "source",
                                                                std::string sink_type = "sink");
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Runs to the end of the source (or stop()), drains every batch in
  /// flight and completes the sink. Returns the final stats; the error of
  /// the source, sink or dead-letter file when one failed (the records
  /// affected are counted failed). Call once.
  [[nodiscard]] Result<PipelineStats> run();
  /// Stops the source (it delivers what it buffered, then ends); run()
  /// drains and returns. Thread-safe; not async-signal-safe (call it from a
  /// thread that watches signals).
  void stop() noexcept;
  /// A consistent-enough snapshot while running (counters are read one by one).
  [[nodiscard]] PipelineStats stats() const;
  /// Appends the pipeline's counters in the Prometheus text format (0.0.4):
  /// wasmplug_pipeline_records_total{stage,type,outcome}, ..._stage_busy_seconds_total,
  /// ..._stage_paused_seconds_total, ..._queue_batches, ..._queue_capacity_batches,
  /// ..._records_in_flight. Thread-safe.
  void render_metrics(std::string& out) const;

  struct State;

 private:
  explicit Pipeline(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// ---- Built-in stages --------------------------------------------------------

/// Reads records from `path` ("-" = stdin). A record longer than
/// `max_record_bytes` is delivered as a failed record (kind LimitExceeded,
/// its first 256 bytes kept), and reading goes on; a last line without '\n'
/// is a record. Io error naming the file when it cannot be opened.
[[nodiscard]] Result<std::unique_ptr<Source>> make_file_source(const std::string& path, Framing framing,
                                                               std::uint32_t max_record_bytes = 1u << 20);
/// Writes records to `path` ("-" = stdout), created/truncated. Every write is
/// checked; complete() flushes and closes (its error counts).
[[nodiscard]] Result<std::unique_ptr<Sink>> make_file_sink(const std::string& path, Framing framing);

/// Which instances a plugin processor calls.
enum class Instances : std::uint8_t {
  /// Any warm instance of the plugin's pool (Runtime::call): a stateful
  /// plugin sees the records of every flow.
  Shared,
  /// One dedicated instance (a Session) per open flow: made in open_flow
  /// (its wp_init runs then), dropped in close_flow (its wp_shutdown runs on
  /// the runtime's retirer thread), so a stateful plugin's state belongs to
  /// one flow (one Kafka partition). A flow's calls are serialised (one
  /// mutex per flow; within a batch in order, while two workers holding
  /// consecutive batches of one flow may interleave). Records of a flow not
  /// open (file sources) go to the shared pool. Each open flow holds one of
  /// RuntimeConfig::max_instances slots: when none is left, or the plugin's
  /// init fails, the flow has no instance and each of its records tries to
  /// make one again, failing with that error (dead-lettered) while it cannot.
  PerFlow,
};

/// A processor calling one hook of a loaded plugin through Runtime::call or
/// a Session (native, cc-lb, rustcdc profiles): Bytes → Emit, Keep → Keep,
/// Drop → Drop, Done (observe) → Keep. The runtime must outlive the processor.
[[nodiscard]] std::unique_ptr<Processor> make_plugin_processor(const Runtime& runtime,
                                                               std::shared_ptr<const Plugin> plugin, Hook hook,
                                                               Instances instances = Instances::Shared);

// ---- Component stages (torvyn, wasmplug/torvyn.hpp) -------------------------

/// A source backed by a data-source component: one instance (init with the
/// component's config), pull until `none` (then teardown and End). The
/// pipeline assigns each element's position (0, 1, ...: its sequence).
/// When the queues fill it calls notify-backpressure(pause), and (ready)
/// before it pulls again. A failing pull (a process-error or a trap) is a
/// failed record (dead-letter) and pulling goes on; an open circuit breaker
/// is waited out; `fatal` ends the source with that error.
/// InvalidArgument unless the component's world is data-source; the
/// instantiate error (init refused its config ...) otherwise.
[[nodiscard]] Result<std::unique_ptr<Source>> make_component_source(
    const std::shared_ptr<const torvyn::Component>& component);

/// A processor backed by a transform / managed-transform component: one
/// instance per worker thread that calls it at once, each made on first
/// use (one is made here, so that init errors show at once). emit → Emit,
/// drop → Drop. A process-error fails that record (dead-letter) with its
/// case in the message: invalid-input, internal; unavailable (the
/// instance's circuit breaker opens after ErrorPolicy::breaker_failures in
/// a row: Tripped); deadline-exceeded (Timeout). After `fatal` the
/// component gets nothing more: every later record fails without entering
/// it. A trap fails the record; the instance restarts.
[[nodiscard]] Result<std::unique_ptr<Processor>> make_component_processor(
    std::shared_ptr<const torvyn::Component> component);

/// A sink backed by a data-sink component: push each record that came
/// out; `pause` holds the next push back for `pause` (the pipeline's
/// queues fill and the source stops: backpressure). A process-error or a
/// trap fails that record only (dead-letter); `fatal` ends the pipeline
/// (the records not yet accepted count failed). complete() at the end
/// (its error fails the run), then teardown.
[[nodiscard]] Result<std::unique_ptr<Sink>> make_component_sink(const std::shared_ptr<const torvyn::Component>& component,
                                                                std::chrono::milliseconds pause);

// ---- Pipeline files (TOML) --------------------------------------------------

/// A component stage (`type = "component"`) as a pipeline file describes it.
struct ComponentSpec {
  std::string path;        ///< the component (relative: to the pipeline file's directory)
  std::string world;       ///< transform | managed-transform (processors), data-source, data-sink
  std::string config;      ///< the text lifecycle.init gets (worlds with lifecycle)
  std::uint32_t deadline_ms = 50;
  std::uint32_t memory_mb = 16;
  std::uint32_t max_record_bytes = 1u << 20;   ///< Limits::max_input_bytes and max_output_bytes
  std::uint32_t buffer_budget_mb = 32;         ///< BufferLimits::budget_bytes
  std::uint32_t breaker_failures = 5;          ///< ErrorPolicy::breaker_failures (0 = no breaker)
  std::uint32_t breaker_cooldown_ms = 1000;    ///< ErrorPolicy::breaker_cooldown
  std::uint32_t pause_ms = 10;                 ///< sinks: how long `pause` holds the next push back
};

/// Makes a processor of a type the file names (`type = "..."`) from its
/// table's keys (all strings, as written; validated by the factory). Used
/// for types outside the built-ins ("plugin"), e.g. a native one for a
/// benchmark, or a component processor.
using ProcessorFactory = std::function<Result<std::unique_ptr<Processor>>(
    const std::string& name, const std::map<std::string, std::string>& keys)>;

/// One processor as a pipeline file describes it.
struct ProcessorSpec {
  std::string name;
  std::string type = "plugin";
  // type = "plugin":
  std::string path;                   ///< the .wasm file (relative: to the pipeline file's directory)
  std::string abi = "native";         ///< native | cc-lb | rustcdc | kestrel
  std::string hook;                   ///< empty: the profile's first hook (transform, filter, transform, eval)
  std::string isolation = "warm";     ///< warm | fresh
  /// per-partition | shared (Instances::PerFlow / Shared); empty: per-partition
  /// when the source is Kafka, else shared.
  std::string instances;
  std::uint32_t deadline_ms = 50;
  std::uint32_t memory_mb = 16;
  std::uint32_t max_record_bytes = 1u << 20;  ///< Limits::max_input_bytes and max_output_bytes
  std::string config;                 ///< a file whose bytes go to the plugin's init; empty: none
  bool wasi = false;
  /// kestrel: the schema file (JSON: field name -> {"id","type"}); required.
  std::string schema;
  /// kestrel: where the rule's alerts go, JSON lines; "-" = stderr (default).
  std::string alerts = "-";
  /// type = "component" (or type "plugin" with abi = "torvyn").
  ComponentSpec component;
  /// Every key of the table as text (for ProcessorFactory types).
  std::map<std::string, std::string> keys;
  int line = 0;  ///< where the table starts in the file
};

/// A source, sink or dead-letter stage of a type outside the built-ins
/// (`type = "kafka"`): its table's keys as text (an array of strings joined
/// with ','), and its `properties` subtable (passed through, e.g. to
/// librdkafka). Validated by the StageFactory that builds it.
struct StageSpec {
  std::string type;
  std::map<std::string, std::string> keys;
  std::map<std::string, std::string> properties;
  int line = 0;  ///< where the table starts in the file
};

/// A pipeline file, parsed and validated.
struct PipelineSpec {
  std::string file;  ///< for messages
  PipelineOptions options;
  std::string source_type = "file";  ///< file | stdin | component
  ComponentSpec source_component;    ///< source_type == "component" (source_path is its path)
  std::string source_path;
  Framing source_framing = Framing::Lines;
  std::uint32_t source_max_record_bytes = 1u << 20;
  std::vector<ProcessorSpec> processors;
  std::string sink_type = "file";  ///< file | stdout | component
  ComponentSpec sink_component;    ///< sink_type == "component" (sink_path is its path)
  std::string sink_path;
  Framing sink_framing = Framing::Lines;
  /// source_type / sink_type "kafka": the table, for the StageFactory.
  std::optional<StageSpec> source_stage;
  std::optional<StageSpec> sink_stage;
  /// A top-level [dead_letter] table (type = "kafka": a dead-letter topic, in
  /// addition to the [pipeline] dead_letter file).
  std::optional<StageSpec> dead_letter_stage;
};

/// A source and/or sink of a type outside the built-ins; a null one is
/// built from the spec as usual. One factory makes both, so that a source
/// and a sink of one system can share state (a Kafka sink acknowledges to
/// the Kafka source once the broker has a record).
struct ExternalStages {
  std::unique_ptr<Source> source;
  std::unique_ptr<Sink> sink;
};
/// Builds the external stages `spec` names (source_stage, sink_stage,
/// dead_letter_stage); errors name the file, line and key.
using StageFactory = std::function<Result<ExternalStages>(const PipelineSpec& spec)>;

/// Parses pipeline TOML. `file` names it in messages, and relative paths in
/// it are taken from its directory. Every error names the file, line and
/// key: a syntax error, an unknown table or key, a value of the wrong type
/// or out of range (InvalidArgument, phase Config).
[[nodiscard]] Result<PipelineSpec> parse_pipeline(std::string_view toml, const std::string& file);

/// Reads and parses a pipeline file (Io naming it when unreadable; at most 1 MiB).
[[nodiscard]] Result<PipelineSpec> load_pipeline_file(const std::string& path);

/// Loads and prepares every processor of `spec` (plugins into `runtime`)
/// without opening the source, sink or dead-letter file: what
/// `wasmplug pipeline check` runs, and the first half of build_pipeline.
[[nodiscard]] Result<std::vector<NamedProcessor>> make_processors(
    const PipelineSpec& spec, Runtime& runtime, const std::map<std::string, ProcessorFactory>& factories = {});

/// What `wasmplug pipeline check` runs: make_processors, and a component
/// source or sink loaded, admitted, instantiated (its init gets its config)
/// and dropped again. Opens no file and no external stage (Kafka). Returns
/// the number of processors; the error build_pipeline would give for them.
[[nodiscard]] Result<std::size_t> check_pipeline(const PipelineSpec& spec, Runtime& runtime,
                                                 const std::map<std::string, ProcessorFactory>& factories = {});

/// Builds the pipeline a spec describes: loads every plugin into `runtime`
/// (and runs its initialisers once, so a bad config fails here), opens the
/// source, sink and dead-letter file. `factories` adds processor types;
/// `stages` builds sources and sinks of other types (kafka): without it such
/// a spec fails with InvalidArgument naming the type.
[[nodiscard]] Result<std::unique_ptr<Pipeline>> build_pipeline(
    const PipelineSpec& spec, Runtime& runtime, const std::map<std::string, ProcessorFactory>& factories = {},
    const StageFactory& stages = {});

}  // namespace wasmplug::pipeline
