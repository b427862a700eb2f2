// wasmplug bench: latency percentiles and throughput of one hook, from N threads.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "io.hpp"
#include "json_out.hpp"
#include "loader.hpp"
#include "metrics_endpoint.hpp"

namespace wasmplug::cli {

namespace {

using Clock = std::chrono::steady_clock;

const char* const kDefaultRecord = R"({"id":42,"user":"ann","level":"info","msg":"hello wasm plug!!"})";

std::string format_ns(double ns) {
  char buf[32];
  if (ns < 1e3) {
    std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  } else if (ns < 1e6) {
    std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  }
  return buf;
}

}  // namespace

int bench(const BenchOptions& options) {
  auto endpoint = start_metrics_endpoint(options.metrics_addr);
  if (!endpoint) {
    return kExitSetup;
  }
  PluginSetup setup = options.setup;
  setup.pool_size = std::max<std::uint32_t>(options.threads, 1);  // one warm instance per thread
  setup.metrics = endpoint->metrics;
  auto loaded = load_plugin(setup);
  if (!loaded) {
    return kExitSetup;
  }
  std::vector<std::string> records;
  if (options.input.empty()) {
    records.emplace_back(kDefaultRecord);
  } else {
    // Bench keeps its records in memory: bounded per record (the plugin's
    // input limit) and in total (kMaxBenchInputBytes).
    std::string open_error;
    const int fd = open_input(options.input, "input ", open_error);
    if (fd < 0) {
      complain(open_error);
      return kExitSetup;
    }
    LineReader reader(fd, loaded->max_input_bytes, 0, -1);
    std::size_t total = 0;
    std::string problem;
    LineReader::Line line;
    for (std::uint64_t line_no = 1; problem.empty(); ++line_no) {
      const LineReader::Status status = reader.next(line);
      if (status == LineReader::Status::End) {
        break;
      }
      if (status != LineReader::Status::Line) {
        problem = "cannot read input " + options.input + ": " + std::strerror(reader.error());
      } else if (line.too_long) {
        problem = "line " + std::to_string(line_no) + " of " + options.input + " (" + std::to_string(line.bytes) +
                  " bytes) is larger than the plugin's input limit of " +
                  format_size(loaded->max_input_bytes);
      } else if (total += line.text.size(); total > kMaxBenchInputBytes) {
        problem = options.input + " is larger than " + format_size(kMaxBenchInputBytes) + " (the bench input limit)";
      } else if (!line.text.empty()) {
        records.emplace_back(line.text);
      }
    }
    if (fd != STDIN_FILENO) {
      ::close(fd);
    }
    if (problem.empty() && records.empty()) {
      problem = options.input + " has no records";
    }
    if (!problem.empty()) {
      complain(problem);
      return kExitSetup;
    }
  }

  std::vector<std::vector<double>> latencies(options.threads);
  std::atomic<std::uint64_t> failures{0};
  std::atomic<bool> stop{false};
  std::string first_error;
  std::atomic<bool> have_error{false};
  std::vector<std::thread> threads;
  threads.reserve(options.threads);
  const auto start = Clock::now();
  for (std::uint32_t t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = latencies[t];
      mine.reserve(1 << 20);
      Scratch scratch;
      std::size_t next = t;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::string& record = records[next++ % records.size()];
        auto call_start = Clock::now();
        auto out = loaded->process(record, scratch);
        mine.push_back(std::chrono::duration<double, std::nano>(Clock::now() - call_start).count());
        if (!out || !out->invalid_input.empty()) {
          failures.fetch_add(1, std::memory_order_relaxed);
          if (!have_error.exchange(true)) {
            first_error = out ? "InvalidInput: " + out->invalid_input : out.error().to_string();
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  stop = true;
  for (auto& th : threads) {
    th.join();
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  for (auto& v : latencies) {
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  auto at = [&](double q) {
    return all.empty() ? 0.0 : all[static_cast<std::size_t>(q * static_cast<double>(all.size() - 1))];
  };
  if (options.json) {
    std::printf("{\"plugin\":%s,\"abi\":%s,\"hook\":%s,\"isolation\":%s,\"threads\":%u,\"distinct_records\":%zu,"
                "\"calls\":%zu,\"seconds\":%.3f,\"calls_per_second\":%.0f,\"failed\":%llu,"
                "\"latency_ns\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"max\":%.0f},\"first_failure\":%s}\n",
                json_string(options.setup.plugin).c_str(), json_string(loaded->abi).c_str(),
                json_string(loaded->hook).c_str(), json_string(loaded->isolation).c_str(), options.threads,
                records.size(), all.size(), elapsed, static_cast<double>(all.size()) / elapsed,
                static_cast<unsigned long long>(failures.load()), at(0.5), at(0.9), at(0.99),
                all.empty() ? 0.0 : all.back(), have_error.load() ? json_string(first_error).c_str() : "null");
  } else {
    std::printf("plugin %s, abi %s, hook %s, isolation %s, %u thread(s), %zu distinct record(s)\n",
                options.setup.plugin.c_str(), loaded->abi.c_str(), loaded->hook.c_str(), loaded->isolation.c_str(),
                options.threads, records.size());
    std::printf("calls: %zu in %.2f s = %.0f calls/s, failed: %llu\n", all.size(), elapsed,
                static_cast<double>(all.size()) / elapsed, static_cast<unsigned long long>(failures.load()));
    if (!all.empty()) {
      std::printf("latency: p50 %s, p90 %s, p99 %s, max %s\n", format_ns(at(0.5)).c_str(),
                  format_ns(at(0.9)).c_str(), format_ns(at(0.99)).c_str(), format_ns(all.back()).c_str());
    }
  }
  if (std::string failed = flush_stdout(); !failed.empty()) {
    complain(failed);
    return kExitSetup;
  }
  if (failures.load() != 0) {
    std::fprintf(stderr, "wasmplug: first failure: %s\n", first_error.c_str());
    return kExitFailures;
  }
  return kExitOk;
}

}  // namespace wasmplug::cli
