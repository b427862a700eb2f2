// Warm isolation, registry and metrics costs: the hot path of a busy server.
//   - warm call of a 64-byte transform (lease, alloc, write, call, read, free, return)
//   - the same through a Registry slot, and with PrometheusMetrics on
//   - throughput with 1 and 2 threads on one slot and on two slots
//   - swap latency for an already-compiled module
// p50/p99/p999 are per call (TSC pair, its median cost subtracted); failed
// calls are counted in `failures`, never abort a run.
#include <benchmark/benchmark.h>

#include "bench_guests.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "wasmplug/registry.hpp"
#include "wasmplug/runtime.hpp"

namespace {

using namespace wasmplug;

using bench::input64;
using bench::read_guest;

struct World {
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<PrometheusMetrics> metrics;
  std::unique_ptr<Registry> registry;

  explicit World(bool with_metrics) {
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};
    if (with_metrics) {
      metrics = std::make_shared<PrometheusMetrics>();
      config.metrics = metrics;
    }
    runtime = std::move(Runtime::create(config)).value();
    registry = std::make_unique<Registry>(*runtime);
    SlotOptions options;
    options.load.isolation = Isolation::Warm;
    options.load.pool.max_instances = 4;
    options.load.pool.acquire_timeout = std::chrono::milliseconds(1000);
    for (const char* slot : {"a", "b"}) {
      (void)registry->register_plugin(slot, Hook::Transform, read_guest("lean"), options);
    }
  }
};

World& world(bool with_metrics) {
  static World plain(false);
  static World metered(true);
  return with_metrics ? metered : plain;
}

bool good(const Result<Output>& out) {
  benchmark::DoNotOptimize(out);
  return out.ok() && out->bytes.size() == 64;
}

template <class Call>
void timed(benchmark::State& state, Call call) {
  bench::per_call(state, [&] { return good(call()); });
}

void BM_Warm_Lean64(benchmark::State& state) {
  auto plugin = world(false).registry->current("a");
  timed(state, [&] { return world(false).runtime->call(*plugin, Hook::Transform, input64()); });
}

void BM_Warm_Lean64_Registry(benchmark::State& state) {
  timed(state, [&] { return world(false).registry->call("a", input64()); });
}

void BM_Warm_Lean64_Registry_Metrics(benchmark::State& state) {
  timed(state, [&] { return world(true).registry->call("a", input64()); });
}

// Throughput: every thread on slot "a", or thread i on its own slot.
void BM_Throughput_OneSlot(benchmark::State& state) {
  for (auto _ : state) {
    auto out = world(false).registry->call("a", input64());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

// As above with PrometheusMetrics on: recording must not serialize threads.
void BM_Throughput_OneSlot_Metrics(benchmark::State& state) {
  for (auto _ : state) {
    auto out = world(true).registry->call("a", input64());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

// One Plugin called directly (no registry): isolates the pool's own scaling.
void BM_Throughput_OnePlugin(benchmark::State& state) {
  static std::shared_ptr<const Plugin> plugin = world(false).registry->current("a");
  for (auto _ : state) {
    auto out = world(false).runtime->call(*plugin, Hook::Transform, input64());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Throughput_TwoSlots(benchmark::State& state) {
  const char* slot = state.thread_index() % 2 == 0 ? "a" : "b";
  for (auto _ : state) {
    auto out = world(false).registry->call(slot, input64());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

// Swap between two compiled versions (the load cache returns them without
// compiling): the cost a control plane pays per hot-swap.
void BM_SwapCompiled(benchmark::State& state) {
  Registry& registry = *world(false).registry;
  static const auto lean = read_guest("lean");
  static const auto echo = read_guest("echo");
  SlotOptions options;
  options.load.isolation = Isolation::Warm;
  (void)registry.register_plugin("swap", Hook::Transform, lean, options);
  (void)registry.register_plugin("swap", Hook::Transform, echo, options);
  bool flip = false;
  for (auto _ : state) {
    auto v = registry.register_plugin("swap", Hook::Transform, flip ? lean : echo, options);
    if (!v.ok()) {
      state.SkipWithError("swap failed");
      break;
    }
    flip = !flip;
  }
}

BENCHMARK(BM_Warm_Lean64);
BENCHMARK(BM_Warm_Lean64_Registry);
BENCHMARK(BM_Warm_Lean64_Registry_Metrics);
BENCHMARK(BM_Throughput_OneSlot)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Throughput_OneSlot_Metrics)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Throughput_OnePlugin)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Throughput_TwoSlots)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_SwapCompiled);

}  // namespace

BENCHMARK_MAIN();
