// Kestrel predicates: pred_eval of a rule that reads 3 fields and does one
// string match (tests/guests/c/kestrel_3fields.c), plus field lookup and a regex
// cache hit on their own, as in the seed's performance table.
// Per-call percentiles use the TSC (≈10 ns per read on the reference VM,
// included in the figures).
#include <benchmark/benchmark.h>

#include "bench_guests.hpp"

#include <x86intrin.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "host/kestrel_patterns.hpp"
#include "wasmplug/kestrel.hpp"

namespace {

using namespace wasmplug;

using bench::ns_per_tick;
using bench::read_guest;

// Times each iteration with the TSC and reports p50/p99/max.
template <class Body>
void per_call(benchmark::State& state, Body body) {
  std::vector<std::uint64_t> ticks;
  ticks.reserve(1 << 22);
  for (auto _ : state) {
    const std::uint64_t start = __rdtsc();
    body();
    const std::uint64_t end = __rdtsc();
    if (ticks.size() < ticks.capacity()) {
      ticks.push_back(end - start);
    }
  }
  std::sort(ticks.begin(), ticks.end());
  if (!ticks.empty()) {
    const double k = ns_per_tick();
    state.counters["p50_ns"] = static_cast<double>(ticks[ticks.size() / 2]) * k;
    state.counters["p99_ns"] = static_cast<double>(ticks[(ticks.size() - 1) * 99 / 100]) * k;
    state.counters["p999_ns"] = static_cast<double>(ticks[(ticks.size() - 1) * 999 / 1000]) * k;
  }
}

struct World {
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<kestrel::SchemaRegistry> schema = std::make_shared<kestrel::SchemaRegistry>();
  std::unique_ptr<kestrel::Engine> engine;
  kestrel::Event event;

  World() {
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};
    runtime = std::move(Runtime::create(config)).value();
    (void)schema->register_field(1, "process.name", kestrel::FieldType::String);
    (void)schema->register_field(2, "process.pid", kestrel::FieldType::I64);
    (void)schema->register_field(5, "user.is_root", kestrel::FieldType::Bool);
    engine = std::make_unique<kestrel::Engine>(*runtime, schema);
    (void)engine->compile_rule("pred", read_guest("kestrel_3fields"));
    // A realistic event: a dozen fields, the three the rule reads among them.
    for (std::uint32_t id = 10; id < 20; ++id) {
      event.set(id, std::int64_t{id});
    }
    event.set(1, std::string("/usr/bin/bash")).set(2, std::int64_t{4242}).set(5, true);
  }
};

World& world() {
  static World w;
  return w;
}

void BM_Kestrel_PredEval(benchmark::State& state) {
  World& w = world();
  per_call(state, [&] {
    auto r = w.engine->evaluate("pred", w.event);
    benchmark::DoNotOptimize(r);
  });
  auto check = w.engine->evaluate("pred", w.event);
  if (!check.ok() || !check->matched) {
    state.SkipWithError("the predicate did not match");
  }
}

void BM_Kestrel_FieldLookup(benchmark::State& state) {
  World& w = world();
  std::uint32_t id = 2;
  per_call(state, [&] {
    const kestrel::Value* v = w.event.get(id);
    benchmark::DoNotOptimize(v);
  });
}

void BM_Kestrel_RegexCacheHit(benchmark::State& state) {
  kestrel::PatternCache cache;
  const std::string text = "/usr/bin/bash";
  (void)cache.match(kestrel::PatternCache::Kind::Regex, "/usr/bin/[a-z]*sh", text);
  per_call(state, [&] {
    auto r = cache.match(kestrel::PatternCache::Kind::Regex, "/usr/bin/[a-z]*sh", text);
    benchmark::DoNotOptimize(r);
  });
}

BENCHMARK(BM_Kestrel_PredEval);
BENCHMARK(BM_Kestrel_FieldLookup);
BENCHMARK(BM_Kestrel_RegexCacheHit);

}  // namespace

BENCHMARK_MAIN();
