// The same redact logic (examples/plugins/redact) written in C, Rust,
// AssemblyScript and Go, called side by side on the same records: fresh
// isolation (a new instance per call) and warm isolation (pooled instances).
// Each benchmark cycles through examples/data/events.jsonl (3000 records,
// 100-260 bytes), checks every output against the C version's once before
// timing, and reports per-call percentiles.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "abi/abi.hpp"
#include "bench_guests.hpp"
#include "instance/instance.hpp"
#include "wasmplug/runtime.hpp"

namespace {

using namespace wasmplug;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

const std::vector<Bytes>& records() {
  static const std::vector<Bytes> all = [] {
    std::vector<Bytes> out;
    std::ifstream in(WASMPLUG_SAMPLE_DATA);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.emplace_back(line.begin(), line.end());
    }
    return out;
  }();
  return all;
}

std::string module_path(const std::string& lang) {
  return std::string(WASMPLUG_EXAMPLE_DIR) + "/redact" + (lang == "c" ? "" : "-" + lang) + ".wasm";
}

LoadOptions options_for(const std::string& lang, Isolation isolation) {
  LoadOptions options;
  options.name = "redact-" + lang;
  options.isolation = isolation;
  // The machine is shared: a generous deadline so that a stall is a slow
  // sample in the percentiles rather than a Timeout that ends the benchmark.
  options.limits.deadline = std::chrono::seconds(10);
  // Go (GOOS=wasip1) imports WASI; the others import nothing but wasmplug.*.
  options.wasi = lang == "go";
  return options;
}

// The C version's outputs: the oracle every other language must reproduce.
const std::vector<Bytes>& expected() {
  static const std::vector<Bytes> out = [] {
    std::vector<Bytes> all;
    auto p = bench::quiet_runtime().load_file(module_path("c"), options_for("c", Isolation::Warm));
    if (!p.ok()) return all;
    for (const auto& r : records()) {
      auto o = bench::quiet_runtime().call(**p, Hook::Transform, r);
      all.push_back(o.ok() ? o->bytes : Bytes{});
    }
    return all;
  }();
  return out;
}

void redact(benchmark::State& state, const std::string& lang, Isolation isolation) {
  Runtime& rt = bench::quiet_runtime();
  if (!std::filesystem::exists(module_path(lang))) {
    state.SkipWithError(("not built: " + module_path(lang)).c_str());
    return;
  }
  auto p = rt.load_file(module_path(lang), options_for(lang, isolation));
  if (!p.ok()) {
    state.SkipWithError(p.error().to_string().c_str());
    return;
  }
  const Plugin& plugin = **p;
  const auto& in = records();
  const auto& want = expected();
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto o = rt.call(plugin, Hook::Transform, in[i]);
    if (!o.ok()) {
      state.SkipWithError(o.error().to_string().c_str());
      return;
    }
    if (i >= want.size() || o->bytes != want[i]) {
      state.SkipWithError(("output differs from the C version on record " + std::to_string(i + 1)).c_str());
      return;
    }
  }
  std::vector<double> ns;
  ns.reserve(1 << 20);
  std::size_t next = 0;
  for (auto _ : state) {
    auto start = Clock::now();
    auto out = rt.call(plugin, Hook::Transform, in[next]);
    auto took = Clock::now() - start;
    if (!out.ok()) {
      state.SkipWithError(out.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(out->bytes.data());
    ns.push_back(std::chrono::duration<double, std::nano>(took).count());
    next = next + 1 == in.size() ? 0 : next + 1;
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return ns[static_cast<std::size_t>(q * static_cast<double>(ns.size() - 1))]; };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p90_ns"] = at(0.90);
  state.counters["p99_ns"] = at(0.99);
  state.counters["module_bytes"] = static_cast<double>(std::filesystem::file_size(module_path(lang)));
}

// Where a fresh call's time goes: instantiation alone ("Instantiate": new
// store, instance from the instance-pre, start function), and instantiation
// plus the module's initialisers ("Initialize": _initialize, e.g. the Go
// runtime's start-up, and wp_init). The rest of a fresh call is the hook.
void startup(benchmark::State& state, const std::string& lang, bool initialize) {
  Runtime& rt = bench::quiet_runtime();
  auto p = rt.load_file(module_path(lang), options_for(lang, Isolation::Fresh));
  if (!p.ok()) {
    state.SkipWithError(p.error().to_string().c_str());
    return;
  }
  std::vector<double> ns;
  for (auto _ : state) {
    auto start = Clock::now();
    auto instance = detail::Instance::create(rt.engine(), **p, Hook::Transform);
    if (!instance.ok() || (initialize && !detail::abi_initialize(**instance).ok())) {
      state.SkipWithError("cannot create or initialise an instance");
      return;
    }
    instance->reset();  // dropping the store is part of a fresh call's cost
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
  }
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return ns[static_cast<std::size_t>(q * static_cast<double>(ns.size() - 1))]; };
  state.counters["p50_ns"] = at(0.50);
  state.counters["p90_ns"] = at(0.90);
  state.counters["p99_ns"] = at(0.99);
}

void register_all() {
  for (const char* lang : {"c", "rust", "assemblyscript", "go"}) {
    for (auto [label, isolation] : {std::pair{"Fresh", Isolation::Fresh}, std::pair{"Warm", Isolation::Warm}}) {
      std::string name = std::string("BM_Redact_") + label + "/" + lang;
      benchmark::RegisterBenchmark(name.c_str(), [lang, isolation](benchmark::State& s) { redact(s, lang, isolation); });
    }
  }
  for (const char* lang : {"c", "rust", "assemblyscript", "go"}) {
    for (bool init : {false, true}) {
      std::string name = std::string(init ? "BM_Initialize/" : "BM_Instantiate/") + lang;
      benchmark::RegisterBenchmark(name.c_str(), [lang, init](benchmark::State& s) { startup(s, lang, init); });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
