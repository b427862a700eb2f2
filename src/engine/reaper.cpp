#include "engine/reaper.hpp"

#include <utility>

namespace wasmplug::detail {

static_assert((Reaper::kCapacity & (Reaper::kCapacity - 1)) == 0, "kCapacity must be a power of two");

Reaper::Reaper() {
  for (std::size_t i = 0; i < kCapacity; ++i) {
    cells_[i].sequence.store(i, std::memory_order_relaxed);
  }
  thread_ = std::thread([this] { run(); });
}

Reaper::~Reaper() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_.notify_one();
  thread_.join();
  while (outstanding() != 0) {
    if (!delete_one()) {
      std::this_thread::yield();  // a caller's push or delete in progress
    }
  }
}

bool Reaper::push(wasmtime_store_t* store, SlotBudget* budget) noexcept {
  std::uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & (kCapacity - 1)];
    const std::uint64_t sequence = cell.sequence.load(std::memory_order_acquire);
    if (sequence == pos) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        cell.store = store;
        cell.budget = budget;
        cell.sequence.store(pos + 1, std::memory_order_release);
        return true;
      }
    } else if (sequence < pos) {
      return false;  // full: the cell still holds the store of a lap ago
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
}

bool Reaper::delete_one() noexcept {
  std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & (kCapacity - 1)];
    const std::uint64_t sequence = cell.sequence.load(std::memory_order_acquire);
    if (sequence == pos + 1) {
      if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        StoreHandle store(cell.store);
        SlotLease slot(cell.budget);
        cell.sequence.store(pos + kCapacity, std::memory_order_release);
        store.reset();  // the store goes, then its slot
        slot.reset();
        outstanding_.fetch_sub(1, std::memory_order_release);
        return true;
      }
    } else if (sequence < pos + 1) {
      return false;  // empty (or a push not finished yet)
    } else {
      pos = dequeue_pos_.load(std::memory_order_relaxed);
    }
  }
}

bool Reaper::empty() const noexcept {
  return dequeue_pos_.load(std::memory_order_relaxed) == enqueue_pos_.load(std::memory_order_relaxed);
}

void Reaper::dispose(StoreHandle store, SlotLease slot) noexcept {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  if (push(store.get(), slot.budget())) [[likely]] {
    (void)store.release();
    (void)slot.release();
    return;
  }
  // The queue is full: deleted here, the store first.
  store.reset();
  slot.reset();
  outstanding_.fetch_sub(1, std::memory_order_release);
}

void Reaper::nudge() noexcept {
  if (empty()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!sleeping_) {
      return;
    }
    kicked_ = true;
  }
  wake_.notify_one();
}

void Reaper::run() {
  int idle = 0;
  for (;;) {
    bool any = false;
    while (delete_one()) {
      any = true;
    }
    if (stopping_.load(std::memory_order_acquire)) {
      return;  // the destructor deletes what came after
    }
    idle = any ? 0 : idle + 1;
    if (idle < kIdlePolls) {
      // Polling while stores keep coming: no caller ever wakes this thread.
      std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    std::unique_lock lock(mutex_);
    sleeping_ = true;
    wake_.wait(lock, [this] { return stopping_.load(std::memory_order_relaxed) || kicked_; });
    sleeping_ = false;
    kicked_ = false;
    idle = 0;
  }
}

}  // namespace wasmplug::detail
