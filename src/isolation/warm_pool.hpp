// WarmPool — a bounded set of ready instances of one plugin version, leased
// for one call at a time. Instances are created on demand (each runs
// _initialize and wp_init once), discarded after a failed call, retired when
// recycled or drained: handed to the engine's Retirer, which runs their
// wp_shutdown on its own thread (see retirer.hpp), never the caller's.
//
// Thread-safe. Idle instances live in per-CPU shards (each with its own
// mutex, on its own cache line): a thread takes from and returns to the shard
// of the CPU it runs on and steals from other shards only when its own is
// empty, so threads on different cores rarely touch the same memory, and
// threads calling different plugins never do.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <span>
#include <vector>

#include "isolation/fresh.hpp"
#include "instance/instance.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Engine;

class WarmPool {
 public:
  WarmPool(const Engine& engine, PoolOptions options);
  ~WarmPool();
  WarmPool(const WarmPool&) = delete;
  WarmPool& operator=(const WarmPool&) = delete;

  /// Lease → begin_call → ABI invoke → return (or discard). Prechecks (hook,
  /// input size) are the caller's.
  [[nodiscard]] Result<Output> call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input,
                                    HostContext* context = nullptr);

  /// Makes sure one instance exists (creating and initialising it if the pool
  /// is empty) and leaves it idle in the pool.
  [[nodiscard]] Result<void> prewarm(const Plugin& plugin);

  [[nodiscard]] PoolStats stats() const;

  /// Draining: idle instances are shut down now, busy ones when returned,
  /// and none are kept until draining is switched off again (a version that
  /// was swapped out, kept for rollback).
  void set_draining(bool draining);

  /// For the Retirer: idle instances now; takes them all out of the pool.
  [[nodiscard]] std::uint32_t idle_instances() const { return idle_count(); }
  [[nodiscard]] std::vector<ReadyInstance> take_idle_instances();
  /// For the Retirer: instances of this pool queued for wp_shutdown. The
  /// pool (and its Plugin) must live until this is zero.
  [[nodiscard]] std::uint32_t retiring() const noexcept { return retiring_.load(std::memory_order_acquire); }
  void begin_retiring() noexcept { retiring_.fetch_add(1, std::memory_order_relaxed); }
  void end_retiring() noexcept { retiring_.fetch_sub(1, std::memory_order_release); }

 private:
  // On cache lines of its own: the caller holding it writes it every call
  // (`calls`, `home`), and two entries made next to each other on the heap
  // would otherwise bounce one line between two threads' calls.
  struct alignas(64) Entry {
    ReadyInstance ready;  // destroying an Entry frees its runtime slot
    std::uint64_t calls = 0;
    // The shard of the CPU the lease was taken on: give_back returns it there
    // (one sched_getcpu per call, not two; any shard is correct).
    std::size_t home = 0;
    [[nodiscard]] Instance& instance() const noexcept { return *ready.instance; }
  };
  // Entries live on the heap and move between the shards and the callers as
  // one pointer: a lease and its return move no instance state.
  using EntryPtr = std::unique_ptr<Entry>;
  // Held for a vector push or pop only, and almost never contended (one
  // shard per CPU), so a spin lock: an uncontended pthread mutex pair cost
  // ~20 ns of a ~115 ns call here.
  class SpinLock {
   public:
    void lock() noexcept {
      while (locked_.exchange(true, std::memory_order_acquire)) {
        while (locked_.load(std::memory_order_relaxed)) {
          std::this_thread::yield();
        }
      }
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

   private:
    std::atomic<bool> locked_{false};
  };
  // `hot` holds the instance last returned to this shard (owned, or null):
  // the common lease and return are one atomic exchange each, without the
  // lock. `idle` holds the rest.
  struct alignas(64) Shard {
    std::atomic<Entry*> hot{nullptr};
    mutable SpinLock mutex;
    std::vector<EntryPtr> idle;
    Shard() = default;
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;
    ~Shard() { delete hot.load(std::memory_order_acquire); }
  };
  [[nodiscard]] std::size_t home_shard() const noexcept;
  [[nodiscard]] EntryPtr take_idle();  // null when every shard is empty
  [[nodiscard]] std::uint32_t idle_count() const;  // locks each shard in turn
  [[nodiscard]] bool reserve_slot() noexcept;  // total_ < max: count one more
  void release_slot() noexcept;
  /// An idle instance, else a new one, else waits (acquire_timeout) or
  /// refuses with PoolSaturated.
  Result<EntryPtr> acquire(const Plugin& plugin, Hook hook);
  /// The rest of call() once an instance is leased. Always inlined (part of
  /// call(), not a hop of its own): call() returns its Result in place.
  [[gnu::always_inline]] inline Result<Output> call_leased(EntryPtr entry, const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input,
                             HostContext* context);
  Result<EntryPtr> create(const Plugin& plugin, Hook hook);
  /// The common return (a healthy instance the pool keeps, its shard's hot
  /// slot empty) in line; anything else through give_back.
  [[gnu::always_inline]] inline void return_leased(EntryPtr entry, bool healthy);
  void give_back(EntryPtr entry, bool healthy);
  /// Hands a healthy instance leaving the pool to the Retirer.
  void retire(EntryPtr entry);
  static void count(std::atomic<std::uint64_t>& counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }

  const Engine* engine_;
  PoolOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;  // never resized after construction
  std::atomic<std::uint32_t> total_{0};  // idle + busy + being created
  std::atomic<bool> draining_{false};
  // Waiting for a free instance (acquire_timeout > 0) only.
  std::mutex wait_mutex_;
  std::condition_variable available_;
  std::atomic<std::uint32_t> waiters_{0};
  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> discarded_{0};
  std::atomic<std::uint64_t> retired_{0};
  std::atomic<std::uint64_t> saturated_{0};
  std::atomic<std::uint32_t> retiring_{0};
};

}  // namespace wasmplug::detail
