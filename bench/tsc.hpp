// Per-call timing with the TSC, shared by the Google Benchmark suites
// (bench_guests.hpp) and the peer comparison (peers/wasmplug_peer.cpp).
#pragma once

#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace wasmplug::bench {

/// Nanoseconds per TSC tick, measured once against steady_clock.
inline double ns_per_tick() {
  static const double value = [] {
    auto t0 = std::chrono::steady_clock::now();
    auto c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto t1 = std::chrono::steady_clock::now();
    auto c1 = __rdtsc();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(c1 - c0);
  }();
  return value;
}

/// Median cost of an empty TSC read pair, subtracted from every sample.
inline std::uint64_t timer_overhead_ticks() {
  static const std::uint64_t value = [] {
    std::vector<std::uint64_t> v(10'000);
    for (auto& x : v) {
      const std::uint64_t a = __rdtsc();
      const std::uint64_t b = __rdtsc();
      x = b - a;
    }
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }();
  return value;
}

}  // namespace wasmplug::bench
