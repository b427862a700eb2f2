// Pipeline throughput, file to file (docs/benchmarks.md, "Pipelines"): the
// same events through three pipelines built by the library, in one run:
//   wasm     — one processor: examples/plugins/redact/redact.c as wasm (warm)
//   native   — one processor: the same C compiled natively (type = "native")
//   none     — no processor: the source → sink floor
// Usage: wasmplug_pipeline_bench REDACT_WASM WORK_DIR [events] [repeats] [threads]
// Writes WORK_DIR/events.jsonl (200-byte JSON events) once, then each
// pipeline `repeats` times, interleaved; prints the best and median rates, and
// checks that the wasm and native pipelines wrote the same bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "wasmplug/buf.h"
#include "wasmplug/pipeline.hpp"

extern "C" int native_redact(const std::uint8_t* in, std::size_t len, wp_buf* out);

namespace {

using namespace wasmplug;

class NativeRedact final : public pipeline::Processor {
 public:
  Result<pipeline::Verdict> process(std::string_view record, std::string& out) const override {
    // One builder per thread, reused: the native side gets the cheaper allocation.
    thread_local wp_buf buf{nullptr, 0, 0, 0};
    buf.len = 0;
    buf.failed = 0;
    if (native_redact(reinterpret_cast<const std::uint8_t*>(record.data()), record.size(), &buf) == 0) {
      return pipeline::Verdict::Drop;
    }
    out.append(reinterpret_cast<const char*>(buf.data), buf.len);
    return pipeline::Verdict::Emit;
  }
};

// Deterministic 200-byte events, each with an e-mail (and half with a card
// number) for redact to find.
void write_events(const std::string& path, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  static const char* const kLevels[] = {"info", "warn", "error", "debug"};
  static const char* const kServices[] = {"checkout", "search", "auth", "billing"};
  std::string line;
  for (std::size_t i = 0; i < count; ++i) {
    char head[256];
    std::snprintf(head, sizeof head,
                  "{\"id\":%zu,\"ts\":%zu,\"level\":\"%s\",\"service\":\"%s\",\"user\":\"user.%zu@example.com\","
                  "\"latency_ms\":%zu.%02zu,%s\"note\":\"",
                  i + 1, 1763700000 + i * 3, kLevels[i % 4], kServices[(i / 4) % 4], i % 97, i % 250, i % 100,
                  i % 2 == 0 ? "\"card\":\"4111 1111 1111 1111\"," : "");
    line = head;
    while (line.size() < 198) {
      line += "x";
    }
    line += "\"}\n";
    out << line;
  }
}

bool same_file(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary);
  std::ifstream fb(b, std::ios::binary);
  std::string ca(1 << 16, '\0');
  std::string cb(1 << 16, '\0');
  while (fa && fb) {
    fa.read(ca.data(), static_cast<std::streamsize>(ca.size()));
    fb.read(cb.data(), static_cast<std::streamsize>(cb.size()));
    if (fa.gcount() != fb.gcount() || ca.compare(0, static_cast<std::size_t>(fa.gcount()), cb, 0,
                                                 static_cast<std::size_t>(fb.gcount())) != 0) {
      return false;
    }
  }
  return fa.eof() && fb.eof();
}

std::string toml_for(const std::string& dir, const std::string& name, const std::string& processor,
                     std::uint32_t threads) {
  return "[pipeline]\nthreads = " + std::to_string(threads) + "\ndead_letter = \"" + dir + "/" + name +
         "-dead.jsonl\"\n[source]\npath = \"" + dir + "/events.jsonl\"\n" + processor + "[sink]\npath = \"" + dir +
         "/" + name + "-out.jsonl\"\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s REDACT_WASM WORK_DIR [events=1000000] [repeats=5] [threads=0]\n", argv[0]);
    return 2;
  }
  const std::string wasm = std::filesystem::absolute(argv[1]).string();
  const std::string dir = std::filesystem::absolute(argv[2]).string();
  const std::size_t events = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1'000'000;
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 5;
  const auto threads = static_cast<std::uint32_t>(argc > 5 ? std::atoi(argv[5]) : 0);
  std::filesystem::create_directories(dir);
  const std::string input = dir + "/events.jsonl";
  if (!std::filesystem::exists(input) || std::filesystem::file_size(input) != events * 200) {
    write_events(input, events);
  }
  auto runtime = Runtime::create();
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.error().to_string().c_str());
    return 2;
  }
  const std::map<std::string, pipeline::ProcessorFactory> factories{
      {"native", [](const std::string&, const std::map<std::string, std::string>&)
                     -> Result<std::unique_ptr<pipeline::Processor>> {
                   return std::unique_ptr<pipeline::Processor>(std::make_unique<NativeRedact>());
                 }}};
  struct Case {
    std::string name;
    std::string processor;
    std::vector<double> rates;
  };
  std::vector<Case> cases{
      {"wasm", "[[processor]]\nname = \"redact\"\npath = \"" + wasm + "\"\nisolation = \"warm\"\n", {}},
      {"native", "[[processor]]\nname = \"redact\"\ntype = \"native\"\n", {}},
      {"none", "", {}},
  };
  for (int r = 0; r < repeats; ++r) {
    for (Case& c : cases) {
      auto spec = pipeline::parse_pipeline(toml_for(dir, c.name, c.processor, threads), dir + "/" + c.name + ".toml");
      if (!spec) {
        std::fprintf(stderr, "%s\n", spec.error().message.c_str());
        return 2;
      }
      auto built = pipeline::build_pipeline(*spec, **runtime, factories);
      if (!built) {
        std::fprintf(stderr, "%s\n", built.error().to_string().c_str());
        return 2;
      }
      const auto start = std::chrono::steady_clock::now();
      auto stats = (*built)->run();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!stats || stats->out != events) {
        std::fprintf(stderr, "%s: %s\n", c.name.c_str(),
                     stats ? "not every event came out" : stats.error().to_string().c_str());
        return 1;
      }
      c.rates.push_back(static_cast<double>(events) / seconds);
    }
  }
  std::printf("%zu events of 200 bytes, file to file, %d repeats, threads=%u (0 = one per core)\n", events, repeats,
              threads);
  double wasm_median = 0;
  double native_median = 0;
  for (Case& c : cases) {
    std::sort(c.rates.begin(), c.rates.end());
    const double median = c.rates[c.rates.size() / 2];
    std::printf("%-7s best %8.0f k events/s   median %8.0f k events/s\n", c.name.c_str(), c.rates.back() / 1e3,
                median / 1e3);
    if (c.name == "wasm") {
      wasm_median = median;
    } else if (c.name == "native") {
      native_median = median;
    }
  }
  std::printf("wasm / native (medians): %.2f\n", wasm_median / native_median);
  // The same work: the wasm and native pipelines must have written the same bytes.
  if (!same_file(dir + "/wasm-out.jsonl", dir + "/native-out.jsonl")) {
    std::fprintf(stderr, "wasm and native outputs differ (%s/{wasm,native}-out.jsonl)\n", dir.c_str());
    return 1;
  }
  std::printf("wasm and native outputs: identical\n");
  return 0;
}
