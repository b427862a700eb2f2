// A cheap timestamp for per-call durations: the CPU's invariant time-stamp
// counter where there is one (about 10 ns to read here, against 24 ns for
// steady_clock::now()), calibrated once against steady_clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace wasmplug::detail {

class CycleClock {
 public:
  /// Measures the tick rate over `span` (done once per Runtime).
  explicit CycleClock(std::chrono::microseconds span = std::chrono::microseconds(2000)) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = ticks();
    std::this_thread::sleep_for(span);
    const auto t1 = std::chrono::steady_clock::now();
    const std::uint64_t c1 = ticks();
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    ns_per_tick_ = c1 > c0 ? ns / static_cast<double>(c1 - c0) : 1.0;
  }

  [[nodiscard]] static std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
  }

  [[nodiscard]] std::chrono::nanoseconds between(std::uint64_t start, std::uint64_t end) const noexcept {
    return std::chrono::nanoseconds(
        end > start ? static_cast<std::int64_t>(static_cast<double>(end - start) * ns_per_tick_) : 0);
  }

 private:
  double ns_per_tick_ = 1.0;
};

}  // namespace wasmplug::detail
