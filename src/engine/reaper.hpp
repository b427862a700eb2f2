// Reaper — deletes the stores of finished fresh instances on its own thread,
// so that a fresh call returns as soon as its output is read. Deleting a
// store gives its pooled memory slot back, which resets the memory (a
// memset of up to memory_keep_resident bytes) and frees the instance: about
// a third of a fresh call's time, none of which the caller needs to wait for.
//
// The caller's side is one compare-exchange into a bounded lock-free queue:
// no lock, no system call, nothing that can make a caller wait for this
// thread. While stores keep coming the thread polls the queue every
// kPollInterval; after kIdlePolls empty polls it sleeps until the epoch
// ticker sees the queue non-empty (nudge(), once per tick).
//
// Bounded: at most kCapacity stores wait; a caller that finds the queue full
// (the thread is behind: descheduled on a busy machine, or callers on every
// core) deletes its own store. A waiting store keeps its slot of the
// runtime's budget (live_instances() counts it); a caller that finds no free
// slot deletes waiting stores itself, or waits for the one being deleted,
// until a slot is free (Engine::acquire_slot), so stores on their way out
// never make a call fail with PoolSaturated.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "engine/handle.hpp"
#include "engine/slots.hpp"

namespace wasmplug::detail {

class Reaper {
 public:
  static constexpr std::size_t kCapacity = 64;  // a power of two
  static constexpr std::chrono::microseconds kPollInterval{100};
  static constexpr int kIdlePolls = 10;

  Reaper();
  /// Deletes what still waits, then stops the thread.
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  /// Takes a store that no call will use again, with the slot it holds (or
  /// deletes it at once when the queue is full).
  void dispose(StoreHandle store, SlotLease slot) noexcept;

  /// Pops and deletes one waiting store on the calling thread; false when
  /// none waits.
  bool delete_one() noexcept;

  /// Stores handed to dispose() and not deleted yet (waiting, being pushed,
  /// or being deleted by some thread). Each holds a slot.
  [[nodiscard]] std::size_t outstanding() const noexcept {
    return outstanding_.load(std::memory_order_acquire);
  }

  /// From the epoch ticker: wakes the thread if it sleeps and stores wait.
  void nudge() noexcept;

 private:
  // A bounded multi-producer multi-consumer queue (D. Vyukov's): each cell's
  // sequence number says whether it is free for the producer at `pos` or
  // filled for the consumer at `pos`.
  struct Cell {
    std::atomic<std::uint64_t> sequence{0};
    wasmtime_store_t* store = nullptr;
    SlotBudget* budget = nullptr;
  };
  [[nodiscard]] bool push(wasmtime_store_t* store, SlotBudget* budget) noexcept;
  [[nodiscard]] bool empty() const noexcept;
  void run();

  alignas(64) std::atomic<std::uint64_t> enqueue_pos_{0};
  alignas(64) std::atomic<std::uint64_t> dequeue_pos_{0};
  alignas(64) std::atomic<std::size_t> outstanding_{0};
  std::array<Cell, kCapacity> cells_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool sleeping_ = false;
  bool kicked_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace wasmplug::detail
