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
// callgrind), warm-metrics-loop (the same with PrometheusMetrics on),
// warm-threads / fresh-threads (CALLS = number of threads,
// PEER_THREAD_SECONDS (2) s of calls), and the machine's own 1 -> 2 thread
// ceiling through the same thread loop: native-threads (the native work),
// alu-threads (ALU-throughput-bound), l2-threads (a 768 KiB private walk),
// membound-threads (a 64 MiB private walk); pingpong (CALLS round trips of a
// cache line between CPU 0 and CPU 1: are they SMT siblings?).
//
// Prints `NAME p50_ns p99_ns p999_ns mean_ns failures calls`; a failed call is
// counted (and its first error printed to stderr), never fatal.
#include <x86intrin.h>

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
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

// THREADS threads each run `make_call()`'s call (made on the thread, so its
// state is the thread's own) for `seconds`; prints calls/s and the CPU time
// the process used per wall second (so a VM that runs both threads on one core
// shows up as ~1.0 CPU instead of 2). The controls (native-threads,
// alu-threads, l2-threads, membound-threads) go through the same loop as
// wasmplug, so their 1 -> 2 thread ratios are the machine's own ceiling.
template <class MakeCall>
void run_threads(const char* name, unsigned threads, double seconds, MakeCall make_call) {
  std::atomic<bool> stop{false};
  std::atomic<unsigned> ready{0};
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      auto call = make_call();
      (void)call();
      ready.fetch_add(1);
      while (ready.load() != threads + 1) {
        std::this_thread::yield();
      }
      std::uint64_t n = 0;
      std::uint64_t bad = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 64; ++i) {
          bad += call() ? 0 : 1;
        }
        n += 64;
      }
      total += n;
      failures += bad;
    });
  }
  // Time from when every thread has made its state (a control's buffer, a
  // Rust host's instance) to when they all stopped.
  while (ready.load() != threads) {
    std::this_thread::yield();
  }
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const auto t0 = std::chrono::steady_clock::now();
  ready.fetch_add(1);
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

double thread_seconds() {
  const char* s = std::getenv("PEER_THREAD_SECONDS");
  return s != nullptr ? std::stod(s) : 2.0;
}

// The native_cpp work: copy 64 bytes into a vector, uppercase them.
bool native_upper() {
  std::vector<std::uint8_t> out(kInput.begin(), kInput.end());
  for (auto& c : out) {
    c = (c >= 'a' && c <= 'z') ? static_cast<std::uint8_t>(c - 32) : c;
  }
  asm volatile("" : : "r"(out.data()) : "memory");
  return out.size() == 64;
}

// A random cyclic walk over `bytes` of the thread's own memory, one cache
// line per step, each load depending on the last: l2 (768 KiB, fits one
// core's 1 MiB L2 but two of them do not fit one shared L2, so SMT siblings
// slow each other down) and membound (64 MiB, beyond the L3: DRAM latency).
std::function<bool()> make_walk(std::size_t bytes) {
  constexpr std::size_t kLine = 64 / sizeof(std::size_t);
  const std::size_t lines = bytes / 64;
  auto next = std::make_shared<std::vector<std::size_t>>(lines * kLine);
  std::vector<std::size_t> order(lines);
  for (std::size_t i = 0; i < lines; ++i) {
    order[i] = i;
  }
  std::uint64_t seed = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<std::uintptr_t>(next->data());
  for (std::size_t i = lines - 1; i > 0; --i) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    std::swap(order[i], order[seed % (i + 1)]);
  }
  for (std::size_t i = 0; i < lines; ++i) {
    (*next)[order[i] * kLine] = order[(i + 1) % lines] * kLine;
  }
  return [next, at = std::size_t{0}]() mutable {
    for (int i = 0; i < 16; ++i) {
      at = (*next)[at];
    }
    asm volatile("" : : "r"(at));
    return true;
  };
}

// Eight independent multiply-xorshift chains: throughput-bound on the ALU
// ports, which SMT siblings share.
bool alu_work() {
  std::array<std::uint64_t, 8> x{1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < 32; ++i) {
    for (auto& v : x) {
      v = (v ^ (v >> 29)) * 0xBF58476D1CE4E5B9ULL;
    }
  }
  asm volatile("" : : "r"(x[0]), "r"(x[7]));
  return true;
}

// Two threads pinned to CPU 0 and CPU 1 hand a cache line back and forth;
// prints the median round trip. SMT siblings share an L1 (tens of ns); two
// cores of one CCX go through the L3 (~100 ns or more).
int run_pingpong(std::size_t rounds) {
  alignas(64) std::atomic<std::uint64_t> line{0};
  auto pin = [](int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0;
  };
  std::vector<std::uint64_t> ticks;
  ticks.reserve(rounds);
  std::thread other([&] {
    if (!pin(1)) {
      std::perror("sched_setaffinity(1)");
    }
    for (std::uint64_t i = 0; i < rounds; ++i) {
      while (line.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      line.store(2 * i + 2, std::memory_order_release);
    }
  });
  if (!pin(0)) {
    std::perror("sched_setaffinity(0)");
  }
  for (std::uint64_t i = 0; i < rounds; ++i) {
    const std::uint64_t a = __rdtsc();
    line.store(2 * i + 1, std::memory_order_release);
    while (line.load(std::memory_order_acquire) != 2 * i + 2) {
    }
    ticks.push_back(__rdtsc() - a);
  }
  other.join();
  std::sort(ticks.begin(), ticks.end());
  const double k = ns_per_tick();
  std::printf("pingpong cpu0<->cpu1 round_trip_ns min=%.0f p10=%.0f p50=%.0f p90=%.0f rounds=%zu\n",
              static_cast<double>(ticks[0]) * k, static_cast<double>(ticks[ticks.size() / 10]) * k,
              static_cast<double>(ticks[ticks.size() / 2]) * k,
              static_cast<double>(ticks[ticks.size() * 9 / 10]) * k, rounds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " native|warm|warm-metrics|fresh|kestrel|kestrel-loop|warm-loop|warm-metrics-loop|warm-threads|fresh-threads|native-threads|alu-threads|l2-threads|membound-threads|pingpong CALLS [GUEST_DIR]\n";
    return 2;
  }
  const std::string mode = argv[1];
  const auto calls = static_cast<std::size_t>(std::stoull(argv[2]));
  if (argc > 3) {
    guest_dir = argv[3];
  }
  if (mode == "native") {
    measure("native_cpp", calls, native_upper);
    return 0;
  }
  const auto threads = static_cast<unsigned>(calls);  // the *-threads modes: CALLS is the thread count
  if (mode == "native-threads") {
    run_threads("native_cpp_threads", threads, thread_seconds(), [] { return native_upper; });
    return 0;
  }
  if (mode == "alu-threads") {
    run_threads("alu_threads", threads, thread_seconds(), [] { return alu_work; });
    return 0;
  }
  if (mode == "l2-threads" || mode == "membound-threads") {
    const std::size_t bytes = mode == "l2-threads" ? std::size_t{768} << 10 : std::size_t{64} << 20;
    run_threads(mode == "l2-threads" ? "l2_threads" : "membound_threads", threads, thread_seconds(),
                [bytes] { return make_walk(bytes); });
    return 0;
  }
  if (mode == "pingpong") {
    return run_pingpong(calls);
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
    measure("wasmplug_fresh", calls, call);
  } else if (mode == "warm-threads" || mode == "fresh-threads") {
    // CALLS is the thread count here; each run lasts PEER_THREAD_SECONDS (2 s).
    run_threads(mode == "fresh-threads" ? "wasmplug_fresh_threads" : "wasmplug_warm_threads", threads,
                thread_seconds(), [&] { return call; });
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
