// The torvyn profile's hot path: processor.process of one element through
// the uppercase component (tests/guests/torvyn/upper), warm instance, round
// trip (element in, emitted element out), with p50/p99 per call. The goal of
// issue 9: p50 <= 3 us for a 1 KiB element.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "wasmplug/runtime.hpp"
#include "wasmplug/torvyn.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::uint8_t> read_component(const std::string& stem) {
  std::ifstream in(std::string(WASMPLUG_TORVYN_GUEST_DIR) + "/" + stem + ".wasm", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

wasmplug::Runtime& runtime() {
  static auto r = wasmplug::Runtime::create().value();
  return *r;
}

void report(benchmark::State& state, std::vector<double>& samples) {
  if (samples.empty()) {
    return;
  }
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) { return samples[static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1))]; };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p99_ns"] = at(0.99);
}

// Arg: payload bytes.
void BM_TorvynProcessUpper(benchmark::State& state) {
  wasmplug::torvyn::ComponentOptions options;
  options.name = "upper";
  auto component = runtime().load_component(read_component("upper"), options);
  if (!component) {
    state.SkipWithError(component.error().to_string().c_str());
    return;
  }
  auto instance = (*component)->instantiate();
  if (!instance) {
    state.SkipWithError(instance.error().to_string().c_str());
    return;
  }
  const std::string payload(static_cast<std::size_t>(state.range(0)), 'a');
  wasmplug::torvyn::Element element;
  element.payload = {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()};
  element.content_type = "text/plain";
  std::vector<double> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    const auto start = Clock::now();
    auto out = (*instance)->process_view(element);
    const auto end = Clock::now();
    if (!out || !out->has_value() || (*out)->payload.size() != payload.size() || (*out)->payload[0] != 'A') {
      state.SkipWithError("unexpected output");
      return;
    }
    samples.push_back(std::chrono::duration<double, std::nano>(end - start).count());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  report(state, samples);
}
BENCHMARK(BM_TorvynProcessUpper)->Arg(64)->Arg(1024)->Arg(16 << 10);

// Creating an instance (store, resource table, typed instance-pre).
void BM_TorvynInstantiate(benchmark::State& state) {
  wasmplug::torvyn::ComponentOptions options;
  options.name = "upper";
  auto component = runtime().load_component(read_component("upper"), options);
  if (!component) {
    state.SkipWithError(component.error().to_string().c_str());
    return;
  }
  std::vector<double> samples;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto instance = (*component)->instantiate();
    const auto end = Clock::now();
    if (!instance) {
      state.SkipWithError(instance.error().to_string().c_str());
      return;
    }
    samples.push_back(std::chrono::duration<double, std::nano>(end - start).count());
  }
  report(state, samples);
}
BENCHMARK(BM_TorvynInstantiate);

// Loading a component (compile + admit) without and with a warm
// compiled-code cache (RuntimeConfig::module_cache): the cache-hit load is a
// verified read + deserialize + admission.
void load_component(benchmark::State& state, bool cached) {
  wasmplug::RuntimeConfig config;
  const auto dir = std::filesystem::temp_directory_path() / ("wasmplug-torvyn-bench-" + std::to_string(::getpid()));
  if (cached) {
    config.module_cache.directory = dir;
  }
  auto rt = wasmplug::Runtime::create(config).value();
  const auto bytes = read_component("upper");
  wasmplug::torvyn::ComponentOptions options;
  options.name = "upper";
  if (cached && !rt->load_component(bytes, options).ok()) {  // fills the cache
    state.SkipWithError("load failed");
    return;
  }
  for (auto _ : state) {
    auto c = rt->load_component(bytes, options);
    if (!c) {
      state.SkipWithError(c.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(c);
  }
  state.counters["component_KB"] = static_cast<double>(bytes.size()) / 1000.0;
  state.counters["hits"] = static_cast<double>(rt->module_cache_stats().hits);
  std::filesystem::remove_all(dir);
}
void BM_TorvynLoadCompile(benchmark::State& state) { load_component(state, false); }
void BM_TorvynLoadCacheHit(benchmark::State& state) { load_component(state, true); }
BENCHMARK(BM_TorvynLoadCompile)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TorvynLoadCacheHit)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
