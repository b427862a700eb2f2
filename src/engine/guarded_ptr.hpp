// GuardedPtr — a pointer that many threads read on every call without
// writing any memory another core reads, and that a writer replaces with one
// atomic store. Readers announce themselves in per-CPU counters (two sets,
// chosen by the parity of an epoch); a writer publishes the new pointer, flips
// the epoch and waits until the old parity's counters drain before handing
// back the old owner — a grace period, as in sleepable RCU. The wait lasts at
// most as long as the calls in flight (each bounded by its deadline).
//
// Readers: any thread. Writers: one at a time (the caller's mutex).
#pragma once

#include <sched.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

namespace wasmplug::detail {

template <class T>
class GuardedPtr {
  struct alignas(64) Counter {
    std::atomic<std::int64_t> readers{0};
  };
  static constexpr std::size_t kShards = 16;

 public:
  /// Keeps the pointer valid until destroyed. Not movable between threads'
  /// lifetimes beyond the call it guards; cheap to create.
  class Reader {
   public:
    explicit Reader(const GuardedPtr& owner) noexcept {
      const int cpu = sched_getcpu();
      const std::size_t shard = cpu < 0 ? 0 : static_cast<std::size_t>(cpu) % kShards;
      const std::uint64_t parity = owner.epoch_.load(std::memory_order_seq_cst) & 1;
      counter_ = &owner.counters_[parity][shard].readers;
      counter_->fetch_add(1, std::memory_order_seq_cst);
      ptr_ = owner.raw_.load(std::memory_order_seq_cst);
    }
    ~Reader() { counter_->fetch_sub(1, std::memory_order_release); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    [[nodiscard]] T* get() const noexcept { return ptr_; }

   private:
    std::atomic<std::int64_t>* counter_;
    T* ptr_;
  };

  GuardedPtr() = default;
  explicit GuardedPtr(std::shared_ptr<T> initial) : raw_(initial.get()), owner_(std::move(initial)) {}

  [[nodiscard]] Reader read() const noexcept { return Reader(*this); }

  /// Writer only. Publishes `next`, waits for readers that may still see the
  /// old pointer, and returns the old owner (safe to destroy).
  std::shared_ptr<T> exchange(std::shared_ptr<T> next) {
    std::shared_ptr<T> old = std::exchange(owner_, std::move(next));
    raw_.store(owner_.get(), std::memory_order_seq_cst);
    const std::uint64_t parity = epoch_.fetch_add(1, std::memory_order_seq_cst) & 1;
    for (const Counter& c : counters_[parity]) {
      while (c.readers.load(std::memory_order_acquire) != 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
    }
    return old;
  }

  /// Writer only: the current owner.
  [[nodiscard]] const std::shared_ptr<T>& owner() const noexcept { return owner_; }

 private:
  mutable std::array<std::array<Counter, kShards>, 2> counters_{};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<T*> raw_{nullptr};
  std::shared_ptr<T> owner_;
};

}  // namespace wasmplug::detail
