// Compiled-code cache: loading a module from a verified cache entry (read,
// MAC check, deserialize) against compiling it (docs/benchmarks.md).
//   ./build/bench/wasmplug_cache_bench
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "admission/hash.hpp"
#include "cache/module_cache.hpp"
#include "engine/engine.hpp"
#include "unit/wasm_builder.hpp"

namespace {

using namespace wasmplug;

// `functions` functions of ~100 bytes of integer arithmetic each, with a
// distinct constant so that every size is its own module.
std::vector<std::uint8_t> generated_module(std::uint64_t functions) {
  test::Bytes code;
  for (int i = 0; i < 16; ++i) {
    test::put_bytes(code, {0x41, 0x07, 0x41, 0x05, 0x6a, 0x1a});  // i32.const 7; i32.const 5; i32.add; drop
  }
  return test::WasmBuilder::many_functions(functions, test::WasmBuilder::body(0, code));
}

// 550 functions: 55 KB; 10'000 functions: 1 MB.
const std::vector<std::uint8_t>& module_of(std::int64_t kb) {
  static const auto small = generated_module(550);
  static const auto large = generated_module(10'000);
  return kb < 100 ? small : large;
}

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<detail::Engine> engine;
  std::unique_ptr<detail::ModuleCache> off;
  std::unique_ptr<detail::ModuleCache> on;

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wasmplug-cache-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    dir = tmpl;
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};
    config.max_instances = 4;
    config.module_cache.directory = dir;
    engine = std::move(detail::Engine::create(config)).value();
    off = std::make_unique<detail::ModuleCache>(ModuleCacheConfig{}, detail::compile_settings(config),
                                                engine->logs());
    on = std::make_unique<detail::ModuleCache>(config.module_cache, detail::compile_settings(config),
                                               engine->logs());
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void run(benchmark::State& state, detail::ModuleCache& cache) {
  const auto& wasm = module_of(state.range(0));
  const std::string hash = detail::module_hash(wasm);
  wasm_engine_t* engine = fixture().engine->raw();
  wasmtime_module_t* module = nullptr;
  if (wasmtime_error_t* e = cache.compile(engine, hash, wasm, &module)) {  // fills the cache for "on"
    wasmtime_error_delete(e);
    state.SkipWithError("compile failed");
    return;
  }
  wasmtime_module_delete(module);
  const auto before = cache.stats();
  for (auto _ : state) {
    if (wasmtime_error_t* e = cache.compile(engine, hash, wasm, &module)) {
      wasmtime_error_delete(e);
      state.SkipWithError("compile failed");
      return;
    }
    wasmtime_module_delete(module);
  }
  const auto after = cache.stats();
  state.counters["module_KB"] = static_cast<double>(wasm.size()) / 1000.0;
  state.counters["hits"] = static_cast<double>(after.hits - before.hits);
  state.counters["compiles"] = static_cast<double>(after.compiles - before.compiles);
  if (const auto entry = cache.entry_path(hash); !entry.empty()) {
    state.counters["entry_KB"] = static_cast<double>(std::filesystem::file_size(entry)) / 1000.0;
  }
}

void BM_Compile(benchmark::State& state) { run(state, *fixture().off); }
void BM_CacheHit(benchmark::State& state) { run(state, *fixture().on); }

BENCHMARK(BM_Compile)->Arg(55)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CacheHit)->Arg(55)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
