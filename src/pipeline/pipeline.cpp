// The pipeline engine: a source thread fills batches, worker threads run
// each batch through the whole processor chain, and the thread in run()
// hands batches to the sink in the order the source made them. A fixed set
// of batches circulates (source → workers → sink → source): that set is the
// bounded queue, and when every batch is taken the source thread waits
// instead of reading, which is how backpressure from a slow stage or a
// paused sink reaches the input. One mutex guards the hand-overs; it is
// taken a few times per batch (hundreds of records), never per record.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "metrics/text_format.hpp"
#include "pipeline/dead_letter.hpp"
#include "pipeline/errors.hpp"
#include "pipeline/io.hpp"
#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kNoBatch = ~std::uint64_t{0};  // an open flow without records yet

std::uint64_t nanos_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

struct StageCounters {
  std::string name;
  std::string type;
  std::atomic<std::uint64_t> in{0};
  std::atomic<std::uint64_t> out{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> busy_ns{0};
  std::atomic<std::uint64_t> paused_ns{0};
};

void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) { counter.fetch_add(n, std::memory_order_relaxed); }
std::uint64_t get(const std::atomic<std::uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

}  // namespace

struct Pipeline::State {
  PipelineOptions options;
  std::unique_ptr<Source> source;
  std::vector<NamedProcessor> processors;
  std::unique_ptr<Sink> sink;
  /// source, processors..., sink
  std::vector<std::unique_ptr<StageCounters>> stages;
  std::unique_ptr<detail::OutFile> dead_letter;
  std::string dead_line;  ///< the sink thread's line buffer

  mutable std::mutex mutex;
  std::condition_variable work_ready;   ///< workers: a batch was queued, or closing
  std::condition_variable batch_done;   ///< sink: a batch finished, or the source ended
  std::condition_variable batch_free;   ///< source: a batch came back
  std::deque<RecordBatch*> work;
  std::map<std::uint64_t, RecordBatch*> done;
  std::vector<RecordBatch*> free;
  std::vector<std::unique_ptr<RecordBatch>> batches;
  std::uint64_t submitted = 0;  ///< batches the source handed on (sequence numbers 0..submitted-1)
  std::uint64_t delivered = 0;  ///< batches the sink thread finished (sequence numbers 0..delivered-1)
  bool source_done = false;
  bool closing = false;

  std::atomic<bool> stopping{false};
  std::atomic<bool> interrupted{false};
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<std::uint64_t> in_flight{0};
  Clock::time_point start;
  std::atomic<std::uint64_t> elapsed_ns{0};
  std::optional<Error> source_error;  ///< written by the source thread, read after join
  std::optional<Error> sink_error;    ///< the sink thread's

  // Flows (Source::flow_events): the source thread's, and the run() thread's
  // once the source thread has been joined.
  std::vector<FlowEvent> flow_events;
  /// Open flows, each with the latest batch holding a record of it (kNoBatch: none yet).
  std::unordered_map<std::uint32_t, std::uint64_t> open_flows;

  StageCounters& source_stage() { return *stages.front(); }
  StageCounters& sink_stage() { return *stages.back(); }

  void source_loop();
  void apply_flow_events();
  void close_flow(std::uint32_t flow);
  void worker_loop();
  void run_chain(RecordBatch& batch);
  void deliver(RecordBatch& batch);
  void write_dead(const RecordBatch& batch, std::size_t i);
  void request_stop() noexcept;
};

void Pipeline::State::request_stop() noexcept {
  if (!stopping.exchange(true)) {
    {
      std::lock_guard lock(mutex);
      interrupted = !source_done;
    }
    source->interrupt();
  }
}

void Pipeline::State::source_loop() {
  std::uint64_t sequence = 0;
  for (;;) {
    RecordBatch* batch = nullptr;
    bool paused = false;
    {
      std::unique_lock lock(mutex);
      if (free.empty()) {
        // Every batch is in flight: the queue is full, so the source waits
        // (and reads nothing) until the sink returns one. The source hears
        // of it outside the lock (a component source calls its guest).
        lock.unlock();
        source->backpressure(true);
        paused = true;
        lock.lock();
        const auto waited = Clock::now();
        batch_free.wait(lock, [&] { return !free.empty(); });
        add(source_stage().paused_ns, nanos_since(waited));
      }
      batch = free.back();
      free.pop_back();
    }
    if (paused) {
      source->backpressure(false);
    }
    batch->clear();
    bool end = false;
    const auto started_at = Clock::now();
    try {
      while (batch->empty() && !end) {
        Result<PullStatus> pulled = source->pull(*batch, options.batch_records, options.batch_bytes);
        if (!pulled) {
          source_error = std::move(pulled).error();
          end = true;
        } else if (*pulled == PullStatus::End) {
          end = true;
        }
        apply_flow_events();  // after every pull: a close is not held back until records come
      }
    } catch (const std::exception& e) {
      source_error = Error{ErrorKind::Io, Phase::Load, "", "", std::string("the source failed: ") + e.what()};
      end = true;
    }
    add(source_stage().busy_ns, nanos_since(started_at));
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    const bool flows = !open_flows.empty();
    std::optional<std::uint32_t> last_flow;
    for (const RecordBatch::Entry& entry : batch->entries()) {
      failed += entry.outcome == Outcome::Failed ? 1 : 0;
      bytes += entry.bytes;
      if (flows && entry.flow != last_flow) {
        last_flow = entry.flow;
        if (auto it = open_flows.find(entry.flow); it != open_flows.end()) {
          it->second = sequence;  // the number this batch gets below
        }
      }
    }
    add(source_stage().in, batch->size());
    add(source_stage().out, batch->size() - failed);
    add(source_stage().failed, failed);
    add(source_stage().bytes_in, bytes);
    {
      std::lock_guard lock(mutex);
      if (!batch->empty()) {
        in_flight.fetch_add(batch->size(), std::memory_order_relaxed);
        batch->sequence = sequence++;
        work.push_back(batch);
        submitted = sequence;
        work_ready.notify_one();
      } else {
        free.push_back(batch);
      }
      if (end) {
        source_done = true;
        batch_done.notify_all();
        return;
      }
    }
  }
}

// Opens before the records of this pull go on; a close first waits until
// every batch that held a record of the flow has been delivered (its
// records acknowledged), so that no worker is inside the flow when the
// processors hear of its end. That wait needs nothing of this thread.
void Pipeline::State::apply_flow_events() {
  flow_events.clear();
  source->flow_events(flow_events);
  for (const FlowEvent& event : flow_events) {
    if (event.kind == FlowEvent::Kind::Opened) {
      if (open_flows.emplace(event.flow, kNoBatch).second) {
        for (NamedProcessor& p : processors) {
          p.processor->open_flow(event.flow);
        }
      }
    } else if (auto it = open_flows.find(event.flow); it != open_flows.end()) {
      if (const std::uint64_t last = it->second; last != kNoBatch) {
        std::unique_lock lock(mutex);
        batch_free.wait(lock, [&] { return delivered > last; });
      }
      close_flow(event.flow);
    }
  }
}

void Pipeline::State::close_flow(std::uint32_t flow) {
  for (NamedProcessor& p : processors) {
    p.processor->close_flow(flow);
  }
  open_flows.erase(flow);
}

void Pipeline::State::worker_loop() {
  for (;;) {
    RecordBatch* batch = nullptr;
    {
      std::unique_lock lock(mutex);
      work_ready.wait(lock, [&] { return closing || !work.empty(); });
      if (work.empty()) {
        return;
      }
      batch = work.front();
      work.pop_front();
    }
    run_chain(*batch);
    {
      std::lock_guard lock(mutex);
      done.emplace(batch->sequence, batch);
    }
    batch_done.notify_one();
  }
}

// Stage by stage over the whole batch: each stage writes every record still
// alive (and keeps every failed one, for the dead-letter file) into the
// batch's scratch buffer, which then becomes its data. A record's bytes are
// therefore copied once per stage, and no allocation happens once the two
// buffers have grown to the batch's size.
void Pipeline::State::run_chain(RecordBatch& batch) {
  RecordMeta meta;  // one per batch: its content_type's capacity is reused
  for (std::size_t s = 0; s < processors.size(); ++s) {
    const Processor& processor = *processors[s].processor;
    StageCounters& counters = *stages[s + 1];
    std::string& next = batch.scratch();
    next.clear();
    std::uint64_t in = 0;
    std::uint64_t out = 0;
    std::uint64_t dropped = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes = 0;
    const auto started_at = Clock::now();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Outcome outcome = batch.entry(i).outcome;
      if (outcome == Outcome::Dropped) {
        continue;
      }
      const std::string_view record = batch.record(i);
      const std::size_t at = next.size();
      if (outcome == Outcome::Failed) {
        next.append(record);
        batch.set_record(i, at, record.size());
        continue;
      }
      ++in;
      bytes += record.size();
      Result<Verdict> verdict = Verdict::Keep;
      std::optional<RecordError> thrown;
      try {
        meta.flow = batch.entry(i).flow;
        meta.position = batch.entry(i).position;
        meta.content_type.assign(batch.content_type(i));
        verdict = processor.process_record(record, meta, next);
      } catch (const std::exception& e) {
        thrown = RecordError{processors[s].name, "InternalError", "call",
                             std::string("the processor threw: ") + e.what()};
      } catch (...) {
        thrown = RecordError{processors[s].name, "InternalError", "call", "the processor threw"};
      }
      if (thrown || !verdict) {
        next.resize(at);
        next.append(record);
        batch.set_record(i, at, record.size());
        batch.fail(i, thrown ? std::move(*thrown) : record_error(processors[s].name, verdict.error()));
        ++failed;
        continue;
      }
      if (*verdict == Verdict::Emit && next.size() > options.max_batch_output_bytes) {
        const std::size_t produced = next.size() - at;
        next.resize(at);
        next.append(record);
        batch.set_record(i, at, record.size());
        batch.fail(i, RecordError{processors[s].name, "LimitExceeded", "call",
                                  "its output of " + std::to_string(produced) +
                                      " bytes took the batch past max_batch_output_bytes (" +
                                      std::to_string(options.max_batch_output_bytes) + ")"});
        ++failed;
        continue;
      }
      switch (*verdict) {
        case Verdict::Emit:
          batch.set_record(i, at, next.size() - at);
          if (meta.content_type != batch.content_type(i)) {
            batch.set_content_type(i, meta.content_type);
          }
          ++out;
          break;
        case Verdict::Keep:
          next.resize(at);
          next.append(record);
          batch.set_record(i, at, record.size());
          ++out;
          break;
        case Verdict::Drop:
          next.resize(at);
          batch.drop(i);
          ++dropped;
          break;
      }
    }
    batch.swap_scratch();
    add(counters.busy_ns, nanos_since(started_at));
    add(counters.in, in);
    add(counters.out, out);
    add(counters.dropped, dropped);
    add(counters.failed, failed);
    add(counters.bytes_in, bytes);
  }
}

void Pipeline::State::write_dead(const RecordBatch& batch, std::size_t i) {
  const RecordBatch::Entry& entry = batch.entry(i);
  const RecordError& error = batch.error(i);
  const std::string_view text = batch.record(i);
  dead_line.clear();
  detail::dead_letter_line(detail::DeadRecord{entry.position, error.stage, error.kind, error.phase, error.message,
                                              text, entry.prefix_only ? entry.bytes : text.size(),
                                              entry.prefix_only},
                           options.max_dead_letter_record_bytes, dead_line);
  dead_letter->record(dead_line);
}

void Pipeline::State::deliver(RecordBatch& batch) {
  StageCounters& counters = sink_stage();
  std::uint64_t to_sink = 0;
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch.entry(i).outcome == Outcome::Pending) {
      batch.mark_out(i);
      ++to_sink;
      bytes += batch.entry(i).length;
    }
  }
  add(counters.in, to_sink);
  add(counters.bytes_in, bytes);
  const auto started_at = Clock::now();
  std::uint64_t paused_ns = 0;
  std::uint64_t failed_by_sink = 0;  // records the sink failed one by one (push_records)
  if (to_sink != 0 && !sink_error) {
    try {
      Result<SinkStatus> status = sink->push_records(batch);
      while (status && *status == SinkStatus::Pause) {
        // Paused: this thread waits, batches pile up behind it, the source
        // runs out of free batches and stops reading.
        const auto paused_at = Clock::now();
        status = sink->wait_ready(std::chrono::milliseconds(100));
        paused_ns += nanos_since(paused_at);
      }
      if (!status) {
        sink_error = std::move(status).error();
      }
    } catch (const std::exception& e) {
      sink_error = Error{ErrorKind::Io, Phase::Call, "", "", std::string("the sink failed: ") + e.what()};
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const RecordBatch::Entry& entry = batch.entry(i);
      if (entry.outcome == Outcome::Failed && batch.error(i).stage == counters.name) {
        ++failed_by_sink;
      }
    }
    if (sink_error) {
      request_stop();  // nothing more can come out: stop reading, drain into the dead-letter file
    }
  }
  add(counters.busy_ns, nanos_since(started_at) - paused_ns);
  add(counters.paused_ns, paused_ns);
  if (sink_error && to_sink != 0) {
    const RecordError error = record_error(counters.name, *sink_error);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch.entry(i).outcome == Outcome::Out) {
        batch.fail(i, error);
      }
    }
    add(counters.failed, to_sink);
  } else {
    add(counters.out, to_sink - failed_by_sink);
    add(counters.failed, failed_by_sink);
  }
  std::vector<Ack> acks;
  acks.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const RecordBatch::Entry& entry = batch.entry(i);
    if (entry.outcome == Outcome::Failed) {
      write_dead(batch, i);
    }
    const bool failed = entry.outcome == Outcome::Failed;
    acks.push_back(Ack{entry.position, entry.flow, entry.outcome, failed ? &batch.error(i) : nullptr,
                       failed ? batch.record(i) : std::string_view{}});
  }
  // The dead-letter lines of this batch are written before its records are
  // acknowledged: a source that commits on acknowledge never commits a
  // failure that is not on disk.
  (void)dead_letter->flush();
  source->acknowledge(acks);
  in_flight.fetch_sub(batch.size(), std::memory_order_relaxed);
}

Pipeline::Pipeline(std::unique_ptr<State> state) : state_(std::move(state)) {}

Pipeline::~Pipeline() = default;

Result<std::unique_ptr<Pipeline>> Pipeline::create(PipelineOptions options, std::unique_ptr<Source> source,
                                                   std::vector<NamedProcessor> processors,
                                                   std::unique_ptr<Sink> sink, std::string source_type,
                                                   std::string sink_type) {
  if (options.threads > 256) {
    return config_error("PipelineOptions::threads must be 0..256 (0 = one per core), got " +
                   std::to_string(options.threads));
  }
  if (options.batch_records < 1 || options.batch_records > 1'000'000) {
    return config_error("PipelineOptions::batch_records must be 1..1000000, got " + std::to_string(options.batch_records));
  }
  if (options.batch_bytes < 1024 || options.batch_bytes > (64u << 20)) {
    return config_error("PipelineOptions::batch_bytes must be 1 KiB..64 MiB, got " + std::to_string(options.batch_bytes));
  }
  if (options.queue_batches != 0 && (options.queue_batches < 2 || options.queue_batches > 4096)) {
    return config_error("PipelineOptions::queue_batches must be 2..4096 (0 = 2 x threads + 2), got " +
                   std::to_string(options.queue_batches));
  }
  if (options.max_batch_output_bytes < (1u << 20) || options.max_batch_output_bytes > (1u << 30)) {
    return config_error("PipelineOptions::max_batch_output_bytes must be 1 MiB..1 GiB, got " +
                   std::to_string(options.max_batch_output_bytes));
  }
  if (options.max_dead_letter_record_bytes > (16u << 20)) {
    return config_error("PipelineOptions::max_dead_letter_record_bytes must be at most 16 MiB, got " +
                   std::to_string(options.max_dead_letter_record_bytes));
  }
  if (!source || !sink) {
    return config_error(std::string("a pipeline needs a ") + (source ? "sink" : "source"));
  }
  for (const NamedProcessor& p : processors) {
    if (!p.processor) {
      return config_error("processor '" + p.name + "' is null");
    }
    if (p.name.empty()) {
      return config_error("every processor needs a name");
    }
  }
  if (options.threads == 0) {
    options.threads = std::max(1u, std::thread::hardware_concurrency());
  }
  if (options.queue_batches == 0) {
    options.queue_batches = 2 * options.threads + 2;
  }
  auto state = std::make_unique<State>();
  state->dead_letter = options.dead_letter == "-"
                           ? std::make_unique<detail::OutFile>(STDERR_FILENO, "stderr")
                           : std::make_unique<detail::OutFile>(options.dead_letter);
  if (!state->dead_letter->ok()) {
    Error e;
    e.kind = ErrorKind::Io;
    e.phase = Phase::Config;
    e.message = "dead-letter file: " + state->dead_letter->error();
    return e;
  }
  auto stage = [&](std::string name, std::string type) {
    auto counters = std::make_unique<StageCounters>();
    counters->name = std::move(name);
    counters->type = std::move(type);
    state->stages.push_back(std::move(counters));
  };
  stage("source", std::move(source_type));
  for (const NamedProcessor& p : processors) {
    stage(p.name, p.type);
  }
  stage("sink", std::move(sink_type));
  state->options = std::move(options);
  state->source = std::move(source);
  state->processors = std::move(processors);
  state->sink = std::move(sink);
  for (std::uint32_t i = 0; i < state->options.queue_batches; ++i) {
    state->batches.push_back(std::make_unique<RecordBatch>());
    state->free.push_back(state->batches.back().get());
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(state)));
}

Result<PipelineStats> Pipeline::run() {
  State& s = *state_;
  if (s.started.exchange(true)) {
    return config_error("Pipeline::run may be called once");
  }
  s.start = Clock::now();
  std::vector<std::thread> workers;
  workers.reserve(s.options.threads);
  for (std::uint32_t i = 0; i < s.options.threads; ++i) {
    workers.emplace_back([&s] { s.worker_loop(); });
  }
  std::thread source_thread([&s] { s.source_loop(); });

  std::uint64_t next = 0;
  for (;;) {
    RecordBatch* batch = nullptr;
    {
      std::unique_lock lock(s.mutex);
      s.batch_done.wait(lock, [&] { return s.done.contains(next) || (s.source_done && next == s.submitted); });
      auto it = s.done.find(next);
      if (it == s.done.end()) {
        break;  // the source ended and everything it made was delivered
      }
      batch = it->second;
      s.done.erase(it);
    }
    s.deliver(*batch);
    ++next;
    {
      std::lock_guard lock(s.mutex);
      s.free.push_back(batch);
      s.delivered = next;
    }
    s.batch_free.notify_one();
  }
  source_thread.join();
  {
    std::lock_guard lock(s.mutex);
    s.closing = true;
  }
  s.work_ready.notify_all();
  for (std::thread& t : workers) {
    t.join();
  }
  // Every batch was delivered: flows the source left open end here.
  while (!s.open_flows.empty()) {
    s.close_flow(s.open_flows.begin()->first);
  }
  Result<void> completed = s.sink->complete();
  const bool dead_ok = s.dead_letter->close() && s.dead_letter->ok();
  s.elapsed_ns = nanos_since(s.start);
  s.finished = true;
  if (s.source_error) {
    Error e = *s.source_error;
    e.message = "source: " + e.message;
    return e;
  }
  if (s.sink_error) {
    Error e = *s.sink_error;
    e.message = "sink: " + e.message;
    return e;
  }
  if (!completed) {
    Error e = completed.error();
    e.message = "sink: " + e.message;
    return e;
  }
  if (!dead_ok) {
    Error e;
    e.kind = ErrorKind::Io;
    e.phase = Phase::Call;
    e.message = "dead-letter file: " + s.dead_letter->error();
    return e;
  }
  return stats();
}

void Pipeline::stop() noexcept { state_->request_stop(); }

PipelineStats Pipeline::stats() const {
  const State& s = *state_;
  PipelineStats out;
  for (const auto& c : s.stages) {
    StageStats st;
    st.name = c->name;
    st.type = c->type;
    st.in = get(c->in);
    st.out = get(c->out);
    st.dropped = get(c->dropped);
    st.failed = get(c->failed);
    st.bytes_in = get(c->bytes_in);
    st.busy_seconds = static_cast<double>(get(c->busy_ns)) / 1e9;
    st.paused_seconds = static_cast<double>(get(c->paused_ns)) / 1e9;
    out.failed += st.failed;
    out.dropped += st.dropped;
    out.stages.push_back(std::move(st));
  }
  out.records_in = out.stages.front().in;
  out.out = out.stages.back().out;
  out.in_flight = s.in_flight.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(s.mutex);
    out.queue_batches = static_cast<std::uint32_t>(s.batches.size() - s.free.size());
  }
  out.queue_capacity = s.options.queue_batches;
  out.threads = s.options.threads;
  out.finished = s.finished.load();
  out.interrupted = s.interrupted.load();
  out.seconds = out.finished ? static_cast<double>(s.elapsed_ns.load()) / 1e9
                : s.started.load() ? static_cast<double>(nanos_since(s.start)) / 1e9
                                   : 0.0;
  return out;
}

void Pipeline::render_metrics(std::string& out) const {
  const auto label = [](const std::string& v) { return detail::escape_label(v); };
  const auto number = [](double v) { return detail::sample_value(v); };
  const PipelineStats st = stats();
  out += "# HELP wasmplug_pipeline_records_total Records by pipeline stage and what became of them.\n";
  out += "# TYPE wasmplug_pipeline_records_total counter\n";
  for (const StageStats& stage : st.stages) {
    const std::string labels = "stage=\"" + label(stage.name) + "\",type=\"" + label(stage.type) + "\"";
    const std::pair<const char*, std::uint64_t> rows[] = {
        {"in", stage.in}, {"out", stage.out}, {"dropped", stage.dropped}, {"failed", stage.failed}};
    for (const auto& [outcome, value] : rows) {
      out += "wasmplug_pipeline_records_total{" + labels + ",outcome=\"" + outcome + "\"} " + std::to_string(value) +
             "\n";
    }
  }
  out += "# HELP wasmplug_pipeline_stage_bytes_total Bytes of the records that reached each stage.\n";
  out += "# TYPE wasmplug_pipeline_stage_bytes_total counter\n";
  for (const StageStats& stage : st.stages) {
    out += "wasmplug_pipeline_stage_bytes_total{stage=\"" + label(stage.name) + "\",type=\"" + label(stage.type) +
           "\"} " + std::to_string(stage.bytes_in) + "\n";
  }
  out += "# HELP wasmplug_pipeline_stage_busy_seconds_total Time spent in each stage (worker threads summed).\n";
  out += "# TYPE wasmplug_pipeline_stage_busy_seconds_total counter\n";
  for (const StageStats& stage : st.stages) {
    out += "wasmplug_pipeline_stage_busy_seconds_total{stage=\"" + label(stage.name) + "\",type=\"" +
           label(stage.type) + "\"} " + number(stage.busy_seconds) + "\n";
  }
  out += "# HELP wasmplug_pipeline_stage_paused_seconds_total Time the source waited for a free batch "
         "(backpressure) or the sink was paused.\n";
  out += "# TYPE wasmplug_pipeline_stage_paused_seconds_total counter\n";
  for (const StageStats& stage : st.stages) {
    out += "wasmplug_pipeline_stage_paused_seconds_total{stage=\"" + label(stage.name) + "\",type=\"" +
           label(stage.type) + "\"} " + number(stage.paused_seconds) + "\n";
  }
  out += "# HELP wasmplug_pipeline_queue_batches Batches in flight between source and sink.\n";
  out += "# TYPE wasmplug_pipeline_queue_batches gauge\n";
  out += "wasmplug_pipeline_queue_batches " + std::to_string(st.queue_batches) + "\n";
  out += "# HELP wasmplug_pipeline_queue_capacity_batches Most batches in flight (the bounded queue).\n";
  out += "# TYPE wasmplug_pipeline_queue_capacity_batches gauge\n";
  out += "wasmplug_pipeline_queue_capacity_batches " + std::to_string(st.queue_capacity) + "\n";
  out += "# HELP wasmplug_pipeline_records_in_flight Records read and not yet out, dropped or failed.\n";
  out += "# TYPE wasmplug_pipeline_records_in_flight gauge\n";
  out += "wasmplug_pipeline_records_in_flight " + std::to_string(st.in_flight) + "\n";
}

}  // namespace wasmplug::pipeline
