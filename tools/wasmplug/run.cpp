// wasmplug run: records in, records out, through N threads (the reader and
// writer among them) in input order; every failed record is written to the errors stream with its error,
// so nothing is lost silently. Every write is checked, every read is bounded,
// and SIGINT/SIGTERM end the run on a record boundary with a summary that
// accounts for every record read.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <simdjson.h>

#include "commands.hpp"
#include "error_sink.hpp"
#include "interrupt.hpp"
#include "io.hpp"
#include "json_out.hpp"
#include "loader.hpp"
#include "metrics_endpoint.hpp"
#include "pipeline.hpp"

namespace wasmplug::cli {

namespace {

// A batch closes at whichever comes first; small enough that a slow plugin
// keeps every worker busy, large enough that handing it over costs nothing.
constexpr std::size_t kBatchRecords = 64;
constexpr std::size_t kBatchBytes = 256u << 10;
// Outputs a batch holds before its worker hands it back part-done: a plugin
// that turns small records into 1 MiB outputs cannot multiply memory by the
// batch size. (The writer writes that part and queues the rest again.)
constexpr std::size_t kBatchOutputBytes = 1u << 20;
constexpr std::size_t kPadding = simdjson::SIMDJSON_PADDING;

struct Counts {
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t dropped = 0;
  std::uint64_t failed = 0;
  std::uint64_t not_processed = 0;  ///< read, then left when the run stopped
  std::uint64_t blank = 0;
  std::uint64_t alerts = 0;
};

void fail(Item& item, std::string_view kind, std::string_view phase, std::string message) {
  item.state = Item::State::Failed;
  item.kind = kind;
  item.phase = phase;
  item.message = std::move(message);
}

// On a worker: every record of the batch through the plugin, unless the run is stopping.
void process_batch(Batch& batch, Scratch& scratch, const Process& process, bool validate_json,
                   const std::atomic<bool>& stopping, const StopSignals& signals) {
  for (Item& item : batch.items) {
    if (item.state != Item::State::Pending) {
      continue;  // failed by the reader (over the input limit), or done in an earlier part
    }
    if (batch.output.size() >= kBatchOutputBytes) {
      return;  // the rest stays Pending: the writer queues the batch again
    }
    // The record in flight finishes; the ones after it wait for a rerun.
    if (stopping.load(std::memory_order_relaxed) || signals.received() != 0) {
      item.state = Item::State::Skipped;
      continue;
    }
    const std::string_view text = batch.text(item);
    scratch.parsed = false;
    if (validate_json) {
      // The batch keeps kPadding readable bytes after every record: parse in place.
      if (auto error = scratch.parser.parse(text.data(), text.size(), false).get(scratch.doc); error) {
        fail(item, "InvalidInput", "input", std::string("malformed JSON: ") + simdjson::error_message(error));
        continue;
      }
      scratch.parsed = true;
    }
    // An exception cannot leave a worker thread (it would terminate the
    // process, losing the records written so far): the record fails instead.
    Result<Processed> result = Error{};
    try {
      result = process(text, scratch);
    } catch (const std::exception& e) {
      fail(item, "InternalError", "call", std::string("the host failed: ") + e.what());
      continue;
    }
    if (!result) {
      const Error& e = result.error();
      fail(item, to_string(e.kind), to_string(e.phase), e.message);
      continue;
    }
    if (!result->invalid_input.empty()) {
      fail(item, "InvalidInput", "input", std::move(result->invalid_input));
      continue;
    }
    item.alerts = std::move(result->alerts);
    switch (result->output.kind) {
      case Output::Kind::Bytes:
        item.state = Item::State::Output;
        item.out_offset = batch.output.size();
        item.out_length = result->output.bytes.size();
        batch.output.append(result->output.text());
        break;
      case Output::Kind::Keep: item.state = Item::State::Keep; break;
      case Output::Kind::Drop: item.state = Item::State::Drop; break;
      case Output::Kind::Done: item.state = Item::State::Done; break;
    }
  }
}

// On the main thread, batch by batch in input order: outputs, failures,
// alerts and counts. Once a record was skipped (the run is stopping) nothing
// after it is written either, so the output is a prefix of the input's
// results and a rerun can start after last_line.
class Writer {
 public:
  Writer(OutFile& out, ErrorSink& errors, OutFile& alerts, bool alerts_human)
      : out_(out), errors_(errors), alerts_(alerts), alerts_human_(alerts_human) {}

  /// Writes the batch's items from `batch.delivered` on. False when it
  /// stopped at a record still pending (the worker handed back a part): the
  /// batch must be processed further and delivered again.
  bool deliver(Batch& batch) {
    for (; batch.delivered < batch.items.size(); ++batch.delivered) {
      const Item& item = batch.items[batch.delivered];
      if (!cut_ && item.state == Item::State::Pending) {
        return false;
      }
      ++counts.in;
      if (cut_ || item.state == Item::State::Skipped || item.state == Item::State::Pending) {
        cut_ = true;
        ++counts.not_processed;
        continue;
      }
      last_line = item.line;
      switch (item.state) {
        case Item::State::Output:
          out_.record(batch.out(item));
          ++counts.out;
          break;
        case Item::State::Keep:
          out_.record(batch.text(item));
          ++counts.out;
          break;
        case Item::State::Drop: ++counts.dropped; break;
        case Item::State::Done: ++counts.out; break;
        case Item::State::Failed:
          ++counts.failed;
          errors_.record({item.line, item.kind, item.phase, item.message, batch.text(item), item.bytes, item.too_long});
          break;
        case Item::State::Pending:
        case Item::State::Skipped: break;
      }
      for (const kestrel::Alert& alert : item.alerts) {
        ++counts.alerts;
        alerts_.record(alerts_human_ ? "line " + std::to_string(item.line) + ": alert " + std::to_string(alert.code) +
                                           " from rule " + alert.rule_id
                                     : "{\"line\":" + std::to_string(item.line) + ",\"rule\":" +
                                           json_string(alert.rule_id) + ",\"code\":" + std::to_string(alert.code) +
                                           "}");
      }
    }
    return true;
  }

  Counts counts;
  std::uint64_t last_line = 0;  ///< the last input line accounted for in the output

 private:
  OutFile& out_;
  ErrorSink& errors_;
  OutFile& alerts_;
  bool alerts_human_;
  bool cut_ = false;
};

// Batches in flight, oldest first, and a few spare ones for reuse.
class Batches {
 public:
  Batches(WorkerPool& pool, Writer& writer, std::size_t max_in_flight)
      : pool_(pool), writer_(writer), max_in_flight_(max_in_flight), current_(fresh()) {}
  /// Normally nothing is in flight here (drain or abandon ran). When an
  /// exception unwinds the run, the batches still queued or on a worker are
  /// waited for before they are freed.
  ~Batches() {
    for (const std::unique_ptr<Batch>& batch : in_flight_) {
      pool_.wait(*batch);
    }
  }
  Batches(const Batches&) = delete;
  Batches& operator=(const Batches&) = delete;

  Batch& current() { return *current_; }
  [[nodiscard]] bool current_full() const {
    return current_->items.size() >= kBatchRecords || current_->input.size() >= kBatchBytes;
  }
  /// Queues the current batch; writes the oldest ones while too many are in flight.
  void dispatch() {
    if (current_->items.empty()) {
      return;
    }
    pool_.submit(*current_);
    in_flight_.push_back(std::move(current_));
    current_ = fresh();
    // Past the bound: write the oldest batch once it is done, help with a
    // queued one meanwhile, and when none is queued (workers hold them all)
    // read on rather than sleep — up to twice the bound, where waiting is
    // the only way left to keep memory bounded.
    while (in_flight_.size() > max_in_flight_) {
      if (in_flight_.size() >= 2 * max_in_flight_ || pool_.done(*in_flight_.front())) {
        write_oldest();  // waits (helping) only at twice the bound
      } else if (!pool_.help_one()) {
        break;
      }
    }
  }
  /// Queues the current batch and writes every batch in flight.
  void drain() {
    dispatch();
    while (!in_flight_.empty()) {
      write_oldest();
    }
  }
  /// The run stopped: writes the batches in flight (workers skip what they
  /// have not started), then the current, never queued batch as not processed.
  void abandon() {
    while (!in_flight_.empty()) {
      write_oldest();
    }
    for (Item& item : current_->items) {
      item.state = Item::State::Skipped;
    }
    (void)writer_.deliver(*current_);  // nothing is pending: always whole
    current_->items.clear();
  }

 private:
  void write_oldest() {
    std::unique_ptr<Batch> batch = std::move(in_flight_.front());
    in_flight_.pop_front();
    pool_.wait(*batch);
    while (!writer_.deliver(*batch)) {
      // Handed back part-done (outputs over kBatchOutputBytes): written, the rest goes round again.
      batch->output.clear();
      batch->done = false;
      pool_.submit(*batch);
      pool_.wait(*batch);
    }
    spare_.push_back(std::move(batch));
  }
  std::unique_ptr<Batch> fresh() {
    if (spare_.empty()) {
      return std::make_unique<Batch>();
    }
    std::unique_ptr<Batch> batch = std::move(spare_.back());
    spare_.pop_back();
    batch->input.clear();
    batch->items.clear();
    batch->output.clear();
    batch->done = false;
    batch->delivered = 0;
    return batch;
  }

  WorkerPool& pool_;
  Writer& writer_;
  std::size_t max_in_flight_;
  std::deque<std::unique_ptr<Batch>> in_flight_;
  std::vector<std::unique_ptr<Batch>> spare_;
  std::unique_ptr<Batch> current_;
};

void add_record(Batch& batch, std::uint64_t line_no, const LineReader::Line& line, const std::string& limit) {
  Item& item = batch.items.emplace_back();
  item.line = line_no;
  item.bytes = line.bytes;
  item.too_long = line.too_long;
  item.offset = batch.input.size();
  item.length = line.text.size();
  batch.input.append(line.text);
  batch.input.append(kPadding, '\0');
  if (line.too_long) {
    fail(item, "LimitExceeded", "input",
         "record of " + std::to_string(line.bytes) + " bytes is larger than the plugin's input limit of " + limit +
             " (Limits::max_input_bytes)");
  }
}

// The summary line on stderr: text, or one JSON object.
bool print_summary(const Counts& c, double seconds, int signo, std::uint64_t last_line, std::uint32_t threads,
                   int status, bool json) {
  const double rate = seconds > 0 ? static_cast<double>(c.in) / seconds : 0.0;
  std::string text;
  if (json) {
    char timing[96];
    std::snprintf(timing, sizeof timing, "\"seconds\":%.3f,\"records_per_second\":%.0f", seconds, rate);
    text = "{\"records_in\":" + std::to_string(c.in) + ",\"out\":" + std::to_string(c.out) +
           ",\"dropped\":" + std::to_string(c.dropped) + ",\"failed\":" + std::to_string(c.failed) +
           ",\"not_processed\":" + std::to_string(c.not_processed) + ",\"blank_lines\":" + std::to_string(c.blank) +
           ",\"alerts\":" + std::to_string(c.alerts) + ",\"threads\":" + std::to_string(threads) + "," + timing +
           ",\"interrupted_by\":" + (signo != 0 ? json_string(signal_name(signo)) : std::string("null")) +
           ",\"last_line\":" + std::to_string(last_line) + ",\"exit_status\":" + std::to_string(status) + "}";
  } else {
    std::string extra;
    if (signo != 0) {
      extra += ", not processed: " + std::to_string(c.not_processed);
    }
    if (c.blank != 0) {
      extra += ", blank lines skipped: " + std::to_string(c.blank);
    }
    if (c.alerts != 0) {
      extra += ", alerts: " + std::to_string(c.alerts);
    }
    char timing[96];
    std::snprintf(timing, sizeof timing, "; %.3f s, %.0f records/s", seconds, rate);
    text = "records in: " + std::to_string(c.in) + ", out: " + std::to_string(c.out) +
           ", dropped: " + std::to_string(c.dropped) + ", failed: " + std::to_string(c.failed) + extra + timing;
  }
  return std::fprintf(stderr, "%s\n", text.c_str()) >= 0;
}

}  // namespace

int run(const RunOptions& options) {
  // From the start: a signal while the plugin compiles also ends in a summary.
  StopSignals stop;
  // Before the plugin loads: a bad or busy --metrics-addr fails fast.
  auto endpoint = start_metrics_endpoint(options.metrics_addr);
  if (!endpoint) {
    return kExitSetup;
  }
  PluginSetup setup = options.setup;
  setup.pool_size = options.threads;  // one warm instance per worker
  setup.metrics = endpoint->metrics;
  auto loaded = load_plugin(setup);
  if (!loaded) {
    return kExitSetup;
  }
  if (loaded->needs_json && options.format != "jsonl") {
    complain("the " + setup.abi + " profile reads JSON events: --format must be jsonl");
    return kExitSetup;
  }

  std::string open_error;
  const int in_fd = open_input(options.input, "input ", open_error);
  if (in_fd < 0) {
    complain(open_error);
    return kExitSetup;
  }
  struct CloseInput {
    int fd;
    ~CloseInput() {
      if (fd != STDIN_FILENO) {
        ::close(fd);
      }
    }
  } close_input{in_fd};

  OutFile out(options.output);
  if (!out.ok()) {
    complain(out.error());
    return kExitSetup;
  }
  // A side stream (errors, alerts) to the same place as the output shares its
  // writer, so that their lines interleave whole; none given: stderr.
  OutFile stderr_file(STDERR_FILENO, "stderr");
  std::deque<OutFile> own_files;
  auto side_stream = [&](const std::string& path) -> OutFile* {
    if (path.empty()) {
      return &stderr_file;
    }
    if (path == options.output) {
      return &out;
    }
    OutFile& file = own_files.emplace_back(path);
    if (!file.ok()) {
      complain(file.error());
      return nullptr;
    }
    return &file;
  };
  OutFile* err_file = side_stream(options.errors);
  OutFile* alerts_file = err_file != nullptr ? side_stream(options.alerts) : nullptr;
  if (alerts_file == nullptr) {
    return kExitSetup;
  }
  ErrorSink errors(*err_file, options.errors.empty(), options.max_error_record_bytes);
  Writer writer(out, errors, *alerts_file, options.alerts.empty());

  std::atomic<bool> stopping{false};
  auto files_ok = [&] {
    bool ok = out.ok() && stderr_file.ok();
    for (const OutFile& f : own_files) {
      ok = ok && f.ok();
    }
    return ok;
  };
  auto flush_all = [&] {
    (void)out.flush();
    (void)stderr_file.flush();
    for (OutFile& f : own_files) {
      (void)f.flush();
    }
  };
  const bool validate_json = options.format == "jsonl";
  const Process& process = loaded->process;
  WorkerPool pool(options.threads, [&](Batch& batch, Scratch& scratch) {
    process_batch(batch, scratch, process, validate_json, stopping, stop);
  });
  Batches batches(pool, writer, 2 * std::size_t{options.threads} + 2);

  // Before the reader blocks on input: everything read so far is processed
  // and written, so a trickling stream gets its results as they come.
  LineReader reader(in_fd, loaded->max_input_bytes, kPadding, stop.wake_fd(), [&] {
    batches.drain();
    flush_all();
  });
  const std::string too_long_limit = format_size(loaded->max_input_bytes);
  const bool progress = isatty(STDERR_FILENO) != 0;
  std::uint64_t line_no = 0;
  std::string read_error;
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;

  LineReader::Line line;
  while (stop.received() == 0 && files_ok()) {
    const LineReader::Status status = reader.next(line);
    if (status != LineReader::Status::Line) {
      if (status == LineReader::Status::Error) {
        read_error = std::string("cannot read input ") + (options.input == "-" ? "stdin" : options.input) + ": " +
                     std::strerror(reader.error());
      }
      break;
    }
    ++line_no;
    if (!line.too_long && line.text.find_first_not_of(" \t") == std::string_view::npos) {
      ++writer.counts.blank;
      continue;
    }
    add_record(batches.current(), line_no, line, too_long_limit);
    if (batches.current_full()) {
      batches.dispatch();
      if (progress) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_progress > std::chrono::milliseconds(500)) {
          last_progress = now;
          std::fprintf(stderr, "\r%llu records, %llu failed...", static_cast<unsigned long long>(writer.counts.in),
                       static_cast<unsigned long long>(writer.counts.failed));
        }
      }
    }
  }
  int signo = stop.received();
  if (signo != 0 || !files_ok()) {
    // Records queued for the workers are left as they are: the writer counts them as not processed.
    stopping = true;
    batches.abandon();
  }
  batches.drain();
  signo = stop.received();
  if (signo != 0) {
    // Read from the input but never processed: counted, so that
    // in = out + dropped + failed + not processed.
    writer.counts.not_processed += reader.unread_records();
    writer.counts.in += reader.unread_records();
  }
  (void)out.close();
  for (OutFile& f : own_files) {
    (void)f.close();
  }
  (void)stderr_file.flush();

  if (progress) {
    std::fputc('\r', stderr);
  }
  const Counts& counts = writer.counts;
  int status = counts.failed == 0 ? kExitOk : kExitFailures;
  if (!read_error.empty()) {
    complain(read_error);
    status = kExitSetup;
  }
  std::vector<const OutFile*> files{&out, &stderr_file};
  for (const OutFile& f : own_files) {
    files.push_back(&f);
  }
  for (const OutFile* file : files) {
    if (!file->ok()) {
      complain(file->error() + "; stopped after input line " + std::to_string(writer.last_line) +
               ", records since the last successful write may be lost");
      status = kExitSetup;
    }
  }
  if (signo != 0) {
    std::fprintf(stderr, "wasmplug: interrupted by %s after input line %llu\n", signal_name(signo),
                 static_cast<unsigned long long>(writer.last_line));
    if (status != kExitSetup) {  // a lost write is the worse news
      status = 128 + signo;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!print_summary(counts, seconds, signo, writer.last_line, options.threads, status, options.json) &&
      status < kExitSetup) {
    status = kExitSetup;  // the summary itself could not be written
  }
  return status;
}

}  // namespace wasmplug::cli
