// SlotBudget — the runtime's budget of instance slots — and SlotLease, one
// slot held.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace wasmplug::detail {

/// Counts instance slots in use so that a full pool is refused with
/// PoolSaturated before Wasmtime is asked. Lock-free. On a cache line of its
/// own: every fresh call writes it twice, and the fields next to it in Engine
/// (the wasm_engine_t*, the clock, the config) are read by every call, so
/// sharing their line made two threads' fresh calls bounce it between cores.
class alignas(64) SlotBudget {
 public:
  explicit SlotBudget(std::uint32_t capacity) noexcept : capacity_(capacity) {}
  [[nodiscard]] bool try_acquire() noexcept {
    std::uint32_t used = used_.load(std::memory_order_relaxed);
    while (used < capacity_) {
      if (used_.compare_exchange_weak(used, used + 1, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  void release() noexcept { used_.fetch_sub(1, std::memory_order_release); }
  [[nodiscard]] std::uint32_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }

 private:
  std::atomic<std::uint32_t> used_{0};
  std::uint32_t capacity_;
};

/// A held slot; returns it on destruction.
class SlotLease {
 public:
  SlotLease() = default;
  explicit SlotLease(SlotBudget* budget) noexcept : budget_(budget) {}
  SlotLease(SlotLease&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)) {}
  SlotLease& operator=(SlotLease&& other) noexcept {
    if (this != &other) {
      reset();
      budget_ = std::exchange(other.budget_, nullptr);
    }
    return *this;
  }
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease() { reset(); }
  /// The budget this lease holds a slot of (null when empty).
  [[nodiscard]] SlotBudget* budget() const noexcept { return budget_; }
  /// Gives up ownership without returning the slot (to rebuild the lease
  /// elsewhere from budget()).
  [[nodiscard]] SlotBudget* release() noexcept { return std::exchange(budget_, nullptr); }
  void reset() noexcept {
    if (budget_ != nullptr) {
      budget_->release();
      budget_ = nullptr;
    }
  }

 private:
  SlotBudget* budget_ = nullptr;
};

}  // namespace wasmplug::detail
