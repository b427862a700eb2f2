// Cost of one hook call: fresh isolation (new instance per call), a warm
// instance reused across calls (reference for the pools issue), and the same
// work as a native C++ function. Each benchmark reports p50/p99 per call.
#include <benchmark/benchmark.h>

#include "bench_guests.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "abi/abi.hpp"
#include "dispatch/instance.hpp"
#include "wasmplug/runtime.hpp"

namespace {

using namespace wasmplug;
using Clock = std::chrono::steady_clock;

using bench::read_guest;

const std::string kInput64 = R"({"id":42,"user":"ann","level":"info","msg":"hello wasm plug!!"})";

Runtime& runtime() { return bench::quiet_runtime(); }

std::shared_ptr<const Plugin> plugin(const std::string& stem) {
  LoadOptions options;
  options.name = stem;
  auto p = runtime().load(read_guest(stem), options);
  return p.ok() ? p.value() : nullptr;
}

// Records each iteration's duration and reports percentiles as counters.
class Percentiles {
 public:
  void add(Clock::duration d) { samples_.push_back(std::chrono::duration<double, std::nano>(d).count()); }
  void report(benchmark::State& state) {
    if (samples_.empty()) {
      return;
    }
    std::sort(samples_.begin(), samples_.end());
    auto at = [&](double q) { return samples_[static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1))]; };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p99_ns"] = at(0.99);
  }

 private:
  std::vector<double> samples_;
};

std::span<const std::uint8_t> input64() {
  return {reinterpret_cast<const std::uint8_t*>(kInput64.data()), 64};
}

// Times `call` per iteration; it must return a 64-byte transform output.
template <class Call>
void measure(benchmark::State& state, Call call) {
  Percentiles pct;
  for (auto _ : state) {
    auto start = Clock::now();
    Result<Output> out = call();
    pct.add(Clock::now() - start);
    if (!out.ok() || out->bytes.size() != 64) {
      state.SkipWithError("call failed");
      break;
    }
    benchmark::DoNotOptimize(out->bytes.data());
  }
  pct.report(state);
}

void fresh(benchmark::State& state, const std::string& stem) {
  auto p = plugin(stem);
  if (!p) {
    state.SkipWithError("cannot load guest");
    return;
  }
  measure(state, [&] { return runtime().call(*p, Hook::Transform, input64()); });
}

// Fresh isolation, minimal guest (WAT echo: bump allocator, output in place).
void BM_Fresh_Echo64(benchmark::State& state) { fresh(state, "echo"); }
// Fresh isolation, C guest built with the SDK (malloc, _initialize, wp_init, copy).
void BM_Fresh_CUpper64(benchmark::State& state) { fresh(state, "upper"); }

// One instance reused: begin_call + alloc/write/call/read/free on the C guest.
void BM_WarmInstance_CUpper64(benchmark::State& state) {
  auto p = plugin("upper");
  if (!p) {
    state.SkipWithError("cannot load guest");
    return;
  }
  auto instance = detail::Instance::create(runtime().engine(), *p, Hook::Transform);
  if (!instance || !detail::abi_initialize(**instance).ok()) {
    state.SkipWithError("cannot create instance");
    return;
  }
  measure(state, [&] {
    (*instance)->begin_call(Hook::Transform);
    return detail::abi_invoke(**instance, Hook::Transform, input64());
  });
}

// The same work natively: copy 64 bytes, uppercase them, return a vector.
void BM_Native_Upper64(benchmark::State& state) {
  Percentiles pct;
  auto in = input64();
  for (auto _ : state) {
    auto start = Clock::now();
    std::vector<std::uint8_t> out(in.begin(), in.end());
    for (auto& c : out) {
      c = (c >= 'a' && c <= 'z') ? static_cast<std::uint8_t>(c - 32) : c;
    }
    benchmark::DoNotOptimize(out.data());
    pct.add(Clock::now() - start);
  }
  pct.report(state);
}

// Throughput of fresh calls from several threads on one Plugin.
void BM_Fresh_Echo64_Threads(benchmark::State& state) {
  static std::shared_ptr<const Plugin> p = plugin("echo");
  for (auto _ : state) {
    auto out = runtime().call(*p, Hook::Transform, input64());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Native_Upper64);
BENCHMARK(BM_WarmInstance_CUpper64);
BENCHMARK(BM_Fresh_Echo64);
BENCHMARK(BM_Fresh_CUpper64);
BENCHMARK(BM_Fresh_Echo64_Threads)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
