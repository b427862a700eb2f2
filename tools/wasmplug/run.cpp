// wasmplug run: records in, records out; every failed record is written to
// the errors stream with its error, so nothing is lost silently. Every write
// is checked, every read is bounded, and SIGINT/SIGTERM end the run on a
// record boundary with a summary that accounts for every record read.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <simdjson.h>

#include "commands.hpp"
#include "interrupt.hpp"
#include "io.hpp"
#include "json_out.hpp"
#include "loader.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::cli {

namespace {

struct Counts {
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t dropped = 0;
  std::uint64_t failed = 0;
  std::uint64_t not_processed = 0;  ///< read, then left when a signal stopped the run
  std::uint64_t blank = 0;
};

// Failed records: JSON lines into a file, or one human line each on stderr.
class ErrorSink {
 public:
  explicit ErrorSink(OutFile& file, bool human) : file_(file), human_(human) {}

  void record(std::uint64_t line, std::string_view kind, std::string_view phase, std::string_view message,
              const LineReader::Line& record) {
    text_.clear();
    if (human_) {
      text_ += "line " + std::to_string(line) + ": ";
      text_ += kind;
      text_ += " in ";
      text_ += phase;
      text_ += ": ";
      text_ += message;
    } else {
      text_ += "{\"line\":" + std::to_string(line) + ",\"kind\":" + json_string(kind) +
               ",\"phase\":" + json_string(phase) + ",\"message\":" + json_string(message) +
               ",\"record\":" + json_string(record.text);
      if (record.too_long) {
        // Only a prefix was kept: say how long the record really was.
        text_ += ",\"record_bytes\":" + std::to_string(record.bytes) + ",\"truncated\":true";
      }
      text_ += "}";
    }
    file_.record(text_);
    if (human_) {
      (void)file_.flush();  // interleaves in order with guest log lines on stderr
    }
  }

 private:
  OutFile& file_;
  bool human_;
  std::string text_;
};

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string_view as_text(const std::vector<std::uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

int run(const RunOptions& options) {
  // From the start: a signal while the plugin compiles also ends in a summary.
  StopSignals stop;
  PluginSetup setup = options.setup;
  setup.pool_size = 1;  // records go through one at a time
  auto loaded = load_plugin(setup);
  if (!loaded) {
    return kExitSetup;
  }
  Runtime& runtime = *loaded->runtime;
  const Plugin& plugin = *loaded->plugin;
  const Hook hook = loaded->hook;

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
  // Errors to the same place as the output share its writer, so that their
  // lines interleave whole.
  std::optional<OutFile> own_errors;
  OutFile* err_file = &out;
  if (options.errors.empty()) {
    own_errors.emplace(STDERR_FILENO, "stderr");
    err_file = &*own_errors;
  } else if (options.errors != options.output) {
    own_errors.emplace(options.errors);
    err_file = &*own_errors;
    if (!err_file->ok()) {
      complain(err_file->error());
      return kExitSetup;
    }
  }
  ErrorSink errors(*err_file, options.errors.empty());

  LineReader reader(in_fd, plugin.limits().max_input_bytes, simdjson::SIMDJSON_PADDING, stop.wake_fd(), [&] {
    (void)out.flush();
    (void)err_file->flush();
  });
  const std::string too_long_limit = format_size(plugin.limits().max_input_bytes);

  const bool validate_json = options.format == "jsonl";
  const bool progress = isatty(STDERR_FILENO) != 0;
  simdjson::dom::parser parser;
  Counts counts;
  std::uint64_t line_no = 0;
  std::string read_error;
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;

  LineReader::Line line;
  while (stop.received() == 0 && out.ok() && err_file->ok()) {
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
      ++counts.blank;
      continue;
    }
    ++counts.in;
    if (line.too_long) {
      ++counts.failed;
      errors.record(line_no, "LimitExceeded", "input",
                    "record of " + std::to_string(line.bytes) + " bytes is larger than the plugin's input limit of " +
                        too_long_limit + " (Limits::max_input_bytes)",
                    line);
      continue;
    }
    if (validate_json) {
      // The reader leaves SIMDJSON_PADDING readable bytes after every line: parse in place.
      if (auto error = parser.parse(line.text.data(), line.text.size(), false).error();
          error != simdjson::SUCCESS) {
        ++counts.failed;
        errors.record(line_no, "InvalidInput", "input",
                      std::string("malformed JSON: ") + simdjson::error_message(error), line);
        continue;
      }
    }
    auto result = runtime.call(plugin, hook, as_bytes(line.text));
    if (!result) {
      ++counts.failed;
      const Error& e = result.error();
      errors.record(line_no, to_string(e.kind), to_string(e.phase), e.message, line);
      continue;
    }
    switch (result->kind) {
      case Output::Kind::Bytes:
        out.record(as_text(result->bytes));
        ++counts.out;
        break;
      case Output::Kind::Keep:
        out.record(line.text);
        ++counts.out;
        break;
      case Output::Kind::Drop: ++counts.dropped; break;
      case Output::Kind::Done: ++counts.out; break;
    }
    if (progress && (counts.in & 0x3ff) == 0) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_progress > std::chrono::milliseconds(500)) {
        last_progress = now;
        std::fprintf(stderr, "\r%llu records, %llu failed...", static_cast<unsigned long long>(counts.in),
                     static_cast<unsigned long long>(counts.failed));
      }
    }
  }
  const int signo = stop.received();
  if (signo != 0) {
    // Read from the input but never processed: counted, so that
    // in = out + dropped + failed + not processed, and named by line so a
    // rerun can start after line_no.
    counts.not_processed = reader.unread_records();
    counts.in += counts.not_processed;
  }
  (void)out.close();
  if (own_errors) {
    (void)own_errors->close();
  }

  if (progress) {
    std::fputc('\r', stderr);
  }
  int status = counts.failed == 0 ? kExitOk : kExitFailures;
  if (!read_error.empty()) {
    complain(read_error);
    status = kExitSetup;
  }
  for (const OutFile* file : {&out, own_errors ? &*own_errors : nullptr}) {
    if (file != nullptr && !file->ok()) {
      complain(file->error() + "; stopped after input line " + std::to_string(line_no) +
               ", records since the last successful write may be lost");
      status = kExitSetup;
    }
  }
  if (signo != 0) {
    std::fprintf(stderr, "wasmplug: interrupted by %s after input line %llu\n", signal_name(signo),
                 static_cast<unsigned long long>(line_no));
    if (status != kExitSetup) {  // a lost write is the worse news
      status = 128 + signo;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string extra;
  if (signo != 0) {
    extra += ", not processed: " + std::to_string(counts.not_processed);
  }
  if (counts.blank != 0) {
    extra += ", blank lines skipped: " + std::to_string(counts.blank);
  }
  const int printed = std::fprintf(
      stderr, "records in: %llu, out: %llu, dropped: %llu, failed: %llu%s; %.3f s, %.0f records/s\n",
      static_cast<unsigned long long>(counts.in), static_cast<unsigned long long>(counts.out),
      static_cast<unsigned long long>(counts.dropped), static_cast<unsigned long long>(counts.failed), extra.c_str(),
      seconds, seconds > 0 ? static_cast<double>(counts.in) / seconds : 0.0);
  if (printed < 0 && status < kExitSetup) {
    status = kExitSetup;  // the summary itself could not be written
  }
  return status;
}

}  // namespace wasmplug::cli
