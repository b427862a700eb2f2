// wasmplug run: records in, records out; every failed record is written to
// the errors stream with its error, so nothing is lost silently.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <simdjson.h>

#include "commands.hpp"
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
  std::uint64_t blank = 0;
};

// Opens `path` for writing; "-" means stdout. Nullptr (with a message) on failure.
std::ostream* open_out(const std::string& path, std::unique_ptr<std::ofstream>& holder, std::ostream& dash) {
  if (path == "-") {
    return &dash;
  }
  holder = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*holder) {
    complain("cannot write " + path);
    return nullptr;
  }
  return holder.get();
}

class ErrorSink {
 public:
  explicit ErrorSink(std::ostream* file) : file_(file) {}
  void record(std::uint64_t line, std::string_view kind, std::string_view phase, const std::string& message,
              std::string_view record) {
    if (file_ != nullptr) {
      *file_ << "{\"line\":" << line << ",\"kind\":" << json_string(kind) << ",\"phase\":" << json_string(phase)
             << ",\"message\":" << json_string(message) << ",\"record\":" << json_string(record) << "}\n";
    } else {
      std::fprintf(stderr, "line %llu: %.*s in %.*s: %s\n", static_cast<unsigned long long>(line),
                   static_cast<int>(kind.size()), kind.data(), static_cast<int>(phase.size()), phase.data(),
                   message.c_str());
    }
  }

 private:
  std::ostream* file_;
};

}  // namespace

int run(const RunOptions& options) {
  PluginSetup setup = options.setup;
  setup.pool_size = 1;  // records go through one at a time
  auto loaded = load_plugin(setup);
  if (!loaded) {
    return kExitSetup;
  }
  Runtime& runtime = *loaded->runtime;
  const Plugin& plugin = *loaded->plugin;
  const Hook hook = loaded->hook;

  std::unique_ptr<std::ifstream> in_file;
  std::istream* in = &std::cin;
  if (options.input != "-") {
    in_file = std::make_unique<std::ifstream>(options.input, std::ios::binary);
    if (!*in_file) {
      complain("cannot read input " + options.input);
      return kExitSetup;
    }
    in = in_file.get();
  }
  std::unique_ptr<std::ofstream> out_file;
  std::unique_ptr<std::ofstream> err_file;
  std::ostream* out = open_out(options.output, out_file, std::cout);
  if (out == nullptr) {
    return kExitSetup;
  }
  std::ostream* err_stream = nullptr;
  if (!options.errors.empty()) {
    err_stream = open_out(options.errors, err_file, std::cout);
    if (err_stream == nullptr) {
      return kExitSetup;
    }
  }
  ErrorSink errors(err_stream);

  const bool validate_json = options.format == "jsonl";
  const bool progress = isatty(STDERR_FILENO) != 0;
  simdjson::dom::parser parser;
  Counts counts;
  std::string line;
  std::uint64_t line_no = 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;

  while (std::getline(*in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      ++counts.blank;
      continue;
    }
    ++counts.in;
    if (validate_json) {
      if (auto error = parser.parse(line).error(); error != simdjson::SUCCESS) {
        ++counts.failed;
        errors.record(line_no, "InvalidInput", "input", std::string("malformed JSON: ") + simdjson::error_message(error),
                      line);
        continue;
      }
    }
    auto input = std::span(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
    auto result = runtime.call(plugin, hook, input);
    if (!result) {
      ++counts.failed;
      const Error& e = result.error();
      errors.record(line_no, to_string(e.kind), to_string(e.phase), e.message, line);
      continue;
    }
    switch (result->kind) {
      case Output::Kind::Bytes:
        out->write(reinterpret_cast<const char*>(result->bytes.data()),
                   static_cast<std::streamsize>(result->bytes.size()));
        out->put('\n');
        ++counts.out;
        break;
      case Output::Kind::Keep:
        *out << line << '\n';
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
  out->flush();
  if (in->bad()) {
    complain("error while reading " + options.input);
    return kExitSetup;
  }
  if (!*out) {
    complain("error while writing " + options.output);
    return kExitSetup;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr,
               "%srecords in: %llu, out: %llu, dropped: %llu, failed: %llu%s; %.3f s, %.0f records/s\n",
               progress ? "\r" : "", static_cast<unsigned long long>(counts.in),
               static_cast<unsigned long long>(counts.out), static_cast<unsigned long long>(counts.dropped),
               static_cast<unsigned long long>(counts.failed),
               counts.blank ? (", blank lines skipped: " + std::to_string(counts.blank)).c_str() : "", seconds,
               seconds > 0 ? static_cast<double>(counts.in) / seconds : 0.0);
  return counts.failed == 0 ? kExitOk : kExitFailures;
}

}  // namespace wasmplug::cli
