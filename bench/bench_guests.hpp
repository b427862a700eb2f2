// Benchmark helpers shared by the suites: the test guests the build produced
// and a runtime whose guest logs go nowhere.
#pragma once

#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tsc.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::bench {

/// Bytes of tests/guests/.../<stem>, built to guest_<stem>.wasm.
inline std::vector<std::uint8_t> read_guest(const std::string& stem) {
  std::ifstream in(std::string(WASMPLUG_GUEST_DIR) + "/guest_" + stem + ".wasm", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// One process-wide runtime (default config, log lines dropped).
inline Runtime& quiet_runtime() {
  static std::unique_ptr<Runtime> rt = [] {
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};
    return std::move(Runtime::create(config)).value();
  }();
  return *rt;
}

/// The benchmarks' 64-byte input (64 characters: no terminator read).
inline constexpr std::string_view kInput64 = R"({"id":42,"user":"ann","level":"info","msg":"hello wasm plug!!!"})";
static_assert(kInput64.size() == 64);

inline std::span<const std::uint8_t> input64() {
  return {reinterpret_cast<const std::uint8_t*>(kInput64.data()), kInput64.size()};
}

/// Times every call (TSC, minus the empty-timer median) and reports per-call
/// p50/p99/p999 and the number of failed calls. `call` returns false for a
/// failed call: it is counted, the benchmark goes on (a spurious deadline hit
/// on a descheduled thread must not abort a run).
template <class Call>
void per_call(benchmark::State& state, Call call) {
  const std::uint64_t overhead = timer_overhead_ticks();
  std::vector<std::uint64_t> ticks;
  ticks.reserve(1 << 22);
  std::int64_t failures = 0;
  for (auto _ : state) {
    const std::uint64_t start = __rdtsc();
    const bool ok = call();
    const std::uint64_t end = __rdtsc();
    failures += ok ? 0 : 1;
    if (ticks.size() < ticks.capacity()) {
      ticks.push_back(end - start > overhead ? end - start - overhead : 0);
    }
  }
  state.counters["failures"] = static_cast<double>(failures);
  if (ticks.empty()) {
    return;
  }
  std::sort(ticks.begin(), ticks.end());
  const double k = ns_per_tick();
  auto at = [&](double q) {
    return static_cast<double>(ticks[static_cast<std::size_t>(static_cast<double>(ticks.size() - 1) * q)]) * k;
  };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
  state.counters["p999_ns"] = at(0.999);
}

}  // namespace wasmplug::bench
