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
#include "abi/invoke.hpp"
#include "instance/instance.hpp"
#include "wasmplug/runtime.hpp"

namespace {

using namespace wasmplug;

using bench::read_guest;


Runtime& runtime() { return bench::quiet_runtime(); }

std::shared_ptr<const Plugin> plugin(const std::string& stem) {
  LoadOptions options;
  options.name = stem;
  auto p = runtime().load(read_guest(stem), options);
  return p.ok() ? p.value() : nullptr;
}

using bench::input64;

// Times `call` per call; a failed call (or one not returning 64 bytes) is counted.
template <class Call>
void measure(benchmark::State& state, Call call) {
  bench::per_call(state, [&] {
    Result<Output> out = call();
    benchmark::DoNotOptimize(out);
    return out.ok() && out->bytes.size() == 64;
  });
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
  auto in = input64();
  bench::per_call(state, [&] {
    std::vector<std::uint8_t> out(in.begin(), in.end());
    for (auto& c : out) {
      c = (c >= 'a' && c <= 'z') ? static_cast<std::uint8_t>(c - 32) : c;
    }
    benchmark::DoNotOptimize(out.data());
    return true;
  });
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
