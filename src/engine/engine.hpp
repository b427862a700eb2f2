// The Wasmtime engine wrapper: validated config, pooling allocator, the one
// epoch-ticker thread of the engine, and the budget of instance slots.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/cycle_clock.hpp"
#include "engine/log_queue.hpp"
#include "engine/handle.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Retirer;

/// Counts instance slots in use so that a full pool is refused with
/// PoolSaturated before Wasmtime is asked. Lock-free.
class SlotBudget {
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
  void reset() noexcept {
    if (budget_ != nullptr) {
      budget_->release();
      budget_ = nullptr;
    }
  }

 private:
  SlotBudget* budget_ = nullptr;
};

/// Checks every field of `config`; the first bad one is named in the error.
/// Wasmtime aborts the process on a config it cannot use, so this runs first.
[[nodiscard]] Result<void> validate(const RuntimeConfig& config);

/// Every engine setting that changes the code Wasmtime generates, as text:
/// part of the compiled-code cache key (src/cache/README.md). Lives next to
/// Engine::create so that a new wasmtime_config_* call is added to both.
[[nodiscard]] std::string compile_settings(const RuntimeConfig& config);

class Engine {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Engine>> create(RuntimeConfig config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  [[nodiscard]] wasm_engine_t* raw() const noexcept { return engine_.get(); }
  [[nodiscard]] const RuntimeConfig& config() const noexcept { return config_; }
  /// Epoch ticks to arm for a span: rounded up, at least one. The deadline
  /// callback checks the real clock when they have passed.
  [[nodiscard]] std::uint64_t epoch_ticks(std::chrono::nanoseconds span) const noexcept;
  [[nodiscard]] SlotBudget& slots() const noexcept { return slots_; }
  /// For call deadlines and durations.
  [[nodiscard]] const CycleClock& clock() const noexcept { return clock_; }
  /// Guest log records on their way to the LogSink (log_queue.hpp).
  [[nodiscard]] LogQueue& logs() const noexcept { return *logs_; }
  /// Shuts retired warm instances down off the callers' threads (retirer.hpp).
  [[nodiscard]] Retirer& retirer() const noexcept { return *retirer_; }

 private:
  Engine(RuntimeConfig config, EngineHandle engine);
  void tick_loop();

  RuntimeConfig config_;
  EngineHandle engine_;
  mutable SlotBudget slots_;
  CycleClock clock_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread ticker_;
  // Last: destroyed first, while the engine their instances need still exists.
  std::unique_ptr<LogQueue> logs_;
  std::unique_ptr<Retirer> retirer_;
};

}  // namespace wasmplug::detail
