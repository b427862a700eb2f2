// How precisely deadlines fire, idle and with the machine loaded (not a
// timed test: docs/security.md quotes these figures).
//
//   Lateness/<load threads>: a guest loops forever under a 20 ms wall-clock
//     deadline; each iteration measures how long after 20 ms the call ended
//     (never before: the runtime checks a real clock). Load threads spin on
//     every core meanwhile.
//   Healthy/<cpu>/<load threads>: a guest that needs ~1-3 ms of CPU runs
//     under a 10 ms budget, with 2 x cores threads spinning: counts calls the
//     budget failed. cpu=0: a 10 ms wall-clock deadline (a descheduled thread
//     fails healthy calls); cpu=1: a 10 ms CPU deadline (it does not).
#include <benchmark/benchmark.h>

#include "bench_guests.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "wasmplug/runtime.hpp"

namespace {

using namespace wasmplug;
using Clock = std::chrono::steady_clock;

using bench::read_guest;

Runtime& runtime() { return bench::quiet_runtime(); }

std::shared_ptr<const Plugin> hostile(Limits limits, const std::string& name) {
  LoadOptions options;
  options.name = name;
  options.limits = limits;
  options.isolation = Isolation::Warm;
  auto p = runtime().load(read_guest("hostile"), options);
  return p.ok() ? p.value() : nullptr;
}

// Spinning threads that keep every core busy while alive.
class Load {
 public:
  explicit Load(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        volatile std::uint64_t x = 0;
        while (!stop_.load(std::memory_order_relaxed)) {
          x = x + 1;
        }
      });
    }
  }
  ~Load() {
    stop_.store(true);
    for (auto& t : threads_) {
      t.join();
    }
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

std::span<const std::uint8_t> text(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void Lateness(benchmark::State& state) {
  Limits limits;
  limits.deadline = std::chrono::milliseconds(20);
  auto plugin = hostile(limits, "lateness");
  Load load(static_cast<int>(state.range(0)));
  std::vector<double> late_us;
  std::uint64_t early = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto out = runtime().call(*plugin, Hook::Transform, text("L"));
    const auto elapsed = Clock::now() - start;
    if (out.ok() || out.error().kind != ErrorKind::Timeout) {
      state.SkipWithError("the loop did not time out");
      return;
    }
    early += elapsed < limits.deadline ? 1 : 0;
    late_us.push_back(std::chrono::duration<double, std::micro>(elapsed - limits.deadline).count());
  }
  std::sort(late_us.begin(), late_us.end());
  auto at = [&](double q) { return late_us[static_cast<std::size_t>(q * static_cast<double>(late_us.size() - 1))]; };
  state.counters["late_p50_us"] = at(0.5);
  state.counters["late_p99_us"] = at(0.99);
  state.counters["late_max_us"] = late_us.back();
  state.counters["early_calls"] = static_cast<double>(early);
}
BENCHMARK(Lateness)->Arg(0)->Arg(2)->Arg(4)->Iterations(50)->Unit(benchmark::kMillisecond)->UseRealTime();

void Healthy(benchmark::State& state) {
  Limits limits;
  const bool cpu = state.range(0) != 0;
  limits.deadline = cpu ? std::chrono::milliseconds(10'000) : std::chrono::milliseconds(10);
  if (cpu) {
    limits.cpu_deadline = std::chrono::milliseconds(10);
  }
  auto plugin = hostile(limits, cpu ? "healthy_cpu" : "healthy_wall");
  Load load(static_cast<int>(state.range(1)));
  std::uint64_t failed = 0;
  std::uint64_t calls = 0;
  for (auto _ : state) {
    // 'P' + 2: 2 * 2^20 loop iterations, about 1-3 ms of CPU here.
    auto out = runtime().call(*plugin, Hook::Transform, text("P\x02"));
    failed += out.ok() ? 0 : 1;
    ++calls;
  }
  state.counters["failed_calls"] = static_cast<double>(failed);
  state.counters["failed_pct"] = 100.0 * static_cast<double>(failed) / static_cast<double>(std::max<std::uint64_t>(calls, 1));
}
BENCHMARK(Healthy)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 8})
    ->Args({1, 8})
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
