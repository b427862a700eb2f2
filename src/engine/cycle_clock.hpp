// A cheap timestamp for call deadlines and durations: the CPU's invariant
// time-stamp counter where there is one (about 10 ns to read here, against
// 24 ns for steady_clock::now()), calibrated once against steady_clock.
// Without an invariant TSC (or off x86-64) the ticks are steady_clock
// nanoseconds, so deadlines stay exact wherever the TSC cannot be trusted.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace wasmplug::detail {

class CycleClock {
 public:
  /// Measures the tick rate over `span` (done once per Runtime).
  explicit CycleClock(std::chrono::microseconds span = std::chrono::microseconds(2000)) {
    if (!use_tsc()) {
      return;  // ticks are nanoseconds already
    }
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
    if (use_tsc()) {
      return __rdtsc();
    }
#endif
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

  [[nodiscard]] std::chrono::nanoseconds between(std::uint64_t start, std::uint64_t end) const noexcept {
    return std::chrono::nanoseconds(
        end > start ? static_cast<std::int64_t>(static_cast<double>(end - start) * ns_per_tick_) : 0);
  }

  /// Ticks that cover at least `span`, with `margin` (a fraction, e.g. 1e-3)
  /// added for calibration error, so that a deadline checked in ticks never
  /// fires before `span` has passed.
  [[nodiscard]] std::uint64_t ticks_for(std::chrono::nanoseconds span, double margin) const noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(span.count()) * (1.0 + margin) / ns_per_tick_) + 1;
  }

 private:
  // CPUID leaf 0x80000007, EDX bit 8: the TSC runs at a constant rate in
  // every power state and is synchronised across cores.
  static bool use_tsc() noexcept {
#if defined(__x86_64__)
    static const bool invariant = [] {
      unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
      return __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) != 0 && (edx & (1u << 8)) != 0;
    }();
    return invariant;
#else
    return false;
#endif
  }

  double ns_per_tick_ = 1.0;
};

}  // namespace wasmplug::detail
