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
#include "engine/slots.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Retirer;

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
  // The ticker's: it locks mutex_ every tick, so not on the line of what
  // calls read (clock_, config_).
  alignas(64) std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread ticker_;
  // Last: destroyed first, while the engine their instances need still exists.
  std::unique_ptr<LogQueue> logs_;
  std::unique_ptr<Retirer> retirer_;
};

}  // namespace wasmplug::detail
