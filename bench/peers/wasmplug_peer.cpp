// wasmplug's side of bench/peers/run.sh, measured exactly like the peers
// (bench/peers/rust, bench/peers/node_host.mjs): the SDK's C uppercase guest,
// the same 64-byte input, per-call TSC times minus the median empty timer pair.
//
//   wasmplug_peer MODE CALLS [GUEST_DIR]
//
// MODE: native (the same work in C++), warm (Runtime::call on a warm plugin),
// warm-metrics (the same with PrometheusMetrics on), fresh (Runtime::call with
// fresh isolation), kestrel (Engine::evaluate of kestrel_3fields on the event
// of bench/kestrel_bench.cpp), kestrel-loop (the same, no timers: for
// callgrind; bench/peers/kestrel.sh), warm-loop (warm calls, no timers: for
// callgrind), warm-metrics-loop (the same with PrometheusMetrics on), warm-threads / fresh-threads (CALLS = number of threads, 2 s of
// calls).
//
// Prints `NAME p50_ns p99_ns p999_ns mean_ns failures calls`; a failed call is
// counted (and its first error printed to stderr), never fatal.
#include <x86intrin.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../tsc.hpp"
#include "wasmplug/kestrel.hpp"
#include "wasmplug/metrics.hpp"
#include "wasmplug/runtime.hpp"

namespace {

using namespace wasmplug;
using wasmplug::bench::ns_per_tick;
using wasmplug::bench::timer_overhead_ticks;

constexpr std::string_view kInput = R"({"id":42,"user":"ann","level":"info","msg":"hello wasm plug!!!"})";
static_assert(kInput.size() == 64, "the benchmark input is 64 bytes");

std::string guest_dir = WASMPLUG_GUEST_DIR;

std::vector<std::uint8_t> read_guest(const std::string& stem) {
  const std::string path = guest_dir + "/guest_" + stem + ".wasm";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << path << ": " << std::strerror(errno) << "\n";
    std::exit(1);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::span<const std::uint8_t> input() { return {reinterpret_cast<const std::uint8_t*>(kInput.data()), kInput.size()}; }

// A constant, as the Rust host's EXPECTED: the check costs a compare, not a
// guarded static's initialisation test per call.
constexpr std::array<char, kInput.size()> kExpected = [] {
  std::array<char, kInput.size()> upper{};
  for (std::size_t i = 0; i < kInput.size(); ++i) {
    const char c = kInput[i];
    upper[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  }
  return upper;
}();

template <class Call>
void measure(const char* name, std::size_t calls, Call call) {
  for (std::size_t i = 0; i < calls / 10; ++i) {
    (void)call();  // warm-up
  }
  const std::uint64_t overhead = timer_overhead_ticks();
  std::vector<std::uint64_t> ticks;
  ticks.reserve(calls);
  std::size_t failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < calls; ++i) {
    const std::uint64_t a = __rdtsc();
    const bool ok = call();
    const std::uint64_t b = __rdtsc();
    ticks.push_back(b - a > overhead ? b - a - overhead : 0);
    failures += ok ? 0 : 1;
  }
  const double total = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::sort(ticks.begin(), ticks.end());
  const double k = ns_per_tick();
  auto at = [&](double q) {
    return static_cast<double>(ticks[static_cast<std::size_t>(static_cast<double>(ticks.size() - 1) * q)]) * k;
  };
  // The mean of the per-call samples up to p99.9: on a VM that deschedules
  // the process for milliseconds, a wall-clock mean measures the scheduler.
  (void)total;
  const std::size_t kept = std::max<std::size_t>(1, ticks.size() * 999 / 1000);
  double sum = 0;
  for (std::size_t i = 0; i < kept; ++i) {
    sum += static_cast<double>(ticks[i]);
  }
  const double mean = sum / static_cast<double>(kept) * k;
  std::printf("%s %.1f %.1f %.1f %.1f %zu %zu\n", name, at(0.50), at(0.99), at(0.999), mean, failures, calls);
}

// Counts a failure instead of stopping; prints the first error once.
bool good(const Result<Output>& out) {
  static std::atomic<bool> reported{false};
  if (out.ok() && out->bytes.size() == kExpected.size() &&
      std::memcmp(out->bytes.data(), kExpected.data(), kExpected.size()) == 0) [[likely]] {
    return true;
  }
  if (!reported.exchange(true)) {
    std::cerr << "first failed call: " << (out.ok() ? std::string("wrong output") : out.error().to_string()) << "\n";
  }
  return false;
}

std::unique_ptr<Runtime> make_runtime(std::shared_ptr<MetricsSink> metrics) {
  RuntimeConfig config;
  config.log_sink = [](const LogRecord&) {};
  // The guest logs one debug line per call; the peers check its bounds and
  // drop it, and so does a server logging at Info (RuntimeConfig::min_log_level).
  config.min_log_level = LogLevel::Info;
  config.metrics = std::move(metrics);
  // PEER_MAX_INSTANCES: fewer slots for valgrind, which cannot reserve 256
  // slots' address space (run.sh sets it for both hosts alike).
  if (const char* slots = std::getenv("PEER_MAX_INSTANCES")) {
    config.max_instances = static_cast<std::uint32_t>(std::stoul(slots));
  }
  // PEER_INLINE_TEARDOWN: fresh instances deleted on the calling thread, as
  // the Rust host does (default: on the runtime's reaper thread).
  config.background_teardown = std::getenv("PEER_INLINE_TEARDOWN") == nullptr;
  auto rt = Runtime::create(config);
  if (!rt.ok()) {
    std::cerr << "runtime: " << rt.error().to_string() << "\n";
    std::exit(1);
  }
  return std::move(rt).value();
}

std::shared_ptr<const Plugin> load_upper(Runtime& rt, Isolation isolation) {
  LoadOptions options;
  options.name = "upper";
  options.isolation = isolation;
  auto plugin = rt.load(read_guest("upper"), options);
  if (!plugin.ok()) {
    std::cerr << "load: " << plugin.error().to_string() << "\n";
    std::exit(1);
  }
  return plugin.value();
}

// loop: no timers, for callgrind (kestrel-loop).
int run_kestrel(std::size_t calls, bool loop) {
  auto rt = make_runtime(nullptr);
  auto schema = std::make_shared<kestrel::SchemaRegistry>();
  (void)schema->register_field(1, "process.name", kestrel::FieldType::String);
  (void)schema->register_field(2, "process.pid", kestrel::FieldType::I64);
  (void)schema->register_field(5, "user.is_root", kestrel::FieldType::Bool);
  kestrel::EngineConfig engine_config;
  if (const char* slots = std::getenv("PEER_MAX_INSTANCES")) {  // valgrind: fewer slots
    engine_config.instance_pool_size = static_cast<std::uint32_t>(std::stoul(slots));
  }
  kestrel::Engine engine(*rt, schema, engine_config);
  if (auto compiled = engine.compile_rule("pred", read_guest("kestrel_3fields")); !compiled) {
    std::cerr << "compile_rule: " << compiled.error().to_string() << "\n";
    return 1;
  }
  kestrel::Event event;
  for (std::uint32_t id = 10; id < 20; ++id) {
    event.set(id, std::int64_t{id});
  }
  event.set(1, std::string("/usr/bin/bash")).set(2, std::int64_t{4242}).set(5, true);
  auto call = [&] {
    auto r = engine.evaluate("pred", event);
    return r.ok() && r->matched;
  };
  if (loop) {
    std::size_t failures = 0;
    for (std::size_t i = 0; i < calls; ++i) {
      failures += call() ? 0 : 1;
    }
    std::printf("wasmplug_kestrel_loop %zu failures of %zu\n", failures, calls);
    return 0;
  }
  measure("wasmplug_kestrel", calls, call);
  return 0;
}

// THREADS threads call the plugin for `seconds`; prints calls/s and the CPU
// time the process used per wall second (so a VM that runs both threads on one
// core shows up as ~1.0 CPU instead of 2).
void run_threads(const char* name, Runtime& rt, const Plugin& plugin, unsigned threads, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> failures{0};
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      std::uint64_t n = 0;
      std::uint64_t bad = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 64; ++i) {
          bad += good(rt.call(plugin, Hook::Transform, input())) ? 0 : 1;
        }
        n += 64;
      }
      total += n;
      failures += bad;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) {
    t.join();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  const double cpu = secs(after.ru_utime) - secs(before.ru_utime) + secs(after.ru_stime) - secs(before.ru_stime);
  std::printf("%s threads=%u calls_per_s=%.0f cpu_per_wall=%.2f failures=%llu calls=%llu\n", name, threads,
              static_cast<double>(total.load()) / wall, cpu / wall, static_cast<unsigned long long>(failures.load()),
              static_cast<unsigned long long>(total.load()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " native|warm|warm-metrics|fresh|kestrel|kestrel-loop|warm-loop|warm-metrics-loop|warm-threads|fresh-threads CALLS [GUEST_DIR]\n";
    return 2;
  }
  const std::string mode = argv[1];
  const auto calls = static_cast<std::size_t>(std::stoull(argv[2]));
  if (argc > 3) {
    guest_dir = argv[3];
  }
  if (mode == "native") {
    measure("native_cpp", calls, [] {
      std::vector<std::uint8_t> out(kInput.begin(), kInput.end());
      for (auto& c : out) {
        c = (c >= 'a' && c <= 'z') ? static_cast<std::uint8_t>(c - 32) : c;
      }
      asm volatile("" : : "r"(out.data()) : "memory");
      return out.size() == 64;
    });
    return 0;
  }
  if (mode == "kestrel" || mode == "kestrel-loop") {
    return run_kestrel(calls, mode == "kestrel-loop");
  }
  const bool metered = mode == "warm-metrics" || mode == "warm-metrics-loop";
  auto rt = make_runtime(metered ? std::make_shared<PrometheusMetrics>() : nullptr);
  auto plugin = load_upper(*rt, mode.starts_with("fresh") ? Isolation::Fresh : Isolation::Warm);
  auto call = [&] { return good(rt->call(*plugin, Hook::Transform, input())); };
  if (mode == "warm" || mode == "warm-metrics") {
    measure(metered ? "wasmplug_warm_metrics" : "wasmplug_warm", calls, call);
  } else if (mode == "fresh") {
    measure(std::getenv("PEER_INLINE_TEARDOWN") != nullptr ? "wasmplug_fresh_inline" : "wasmplug_fresh", calls, call);
  } else if (mode == "warm-threads" || mode == "fresh-threads") {
    // CALLS is the thread count here; each run lasts 2 s.
    run_threads(mode == "fresh-threads" ? "wasmplug_fresh_threads" : "wasmplug_warm_threads", *rt, *plugin,
                static_cast<unsigned>(calls), 2.0);
  } else if (mode == "warm-loop" || mode == "warm-metrics-loop") {
    std::size_t failures = 0;
    for (std::size_t i = 0; i < calls; ++i) {
      failures += call() ? 0 : 1;
    }
    std::printf("%s %zu failures of %zu\n", metered ? "wasmplug_warm_metrics_loop" : "wasmplug_warm_loop", failures,
                calls);
  } else {
    std::cerr << "unknown mode " << mode << "\n";
    return 2;
  }
  return 0;
}
