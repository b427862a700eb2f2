// Records in batches through N threads, handed back in input order: the
// reader fills a Batch, submit() queues it, any idle thread processes it
// whole, and wait() on the oldest batch gives the writer its results in the
// order the records came. The calling thread is one of the N: while it waits
// it processes queued batches itself, so `--threads 1` is one thread doing
// everything and `--threads 2` is the caller plus one worker. The caller
// bounds how many batches are in flight.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "loader.hpp"

namespace wasmplug::cli {

/// One record of a batch and, once processed, what became of it.
struct Item {
  enum class State : std::uint8_t {
    Pending,  ///< not processed yet
    Output,   ///< out_offset/out_length in Batch::output
    Keep,     ///< the input itself is the output
    Drop,     ///< dropped by the plugin
    Done,     ///< observed; nothing to write
    Failed,   ///< kind, phase, message say why
    Skipped,  ///< left unprocessed because the run is stopping
  };
  std::uint64_t line = 0;   ///< input line number
  std::uint64_t bytes = 0;  ///< the record's full length
  std::size_t offset = 0;   ///< the record (its prefix when too_long) in Batch::input
  std::size_t length = 0;
  bool too_long = false;
  State state = State::Pending;
  std::size_t out_offset = 0;
  std::size_t out_length = 0;
  std::string kind;
  std::string phase;
  std::string message;
  std::vector<kestrel::Alert> alerts;
};

struct Batch {
  /// Records, each followed by kPadding readable bytes (simdjson parses in place).
  std::string input;
  std::vector<Item> items;
  std::string output;
  std::size_t delivered = 0;  ///< items the writer has written (the main thread's)
  bool done = false;          ///< guarded by the pool's mutex

  [[nodiscard]] std::string_view text(const Item& item) const { return {input.data() + item.offset, item.length}; }
  [[nodiscard]] std::string_view out(const Item& item) const {
    return {output.data() + item.out_offset, item.out_length};
  }
};

class WorkerPool {
 public:
  /// Processes every item of a batch; called on a worker or the
  /// waiting caller, with that thread's Scratch.
  using Work = std::function<void(Batch&, Scratch&)>;

  /// `threads` counts the calling thread: threads - 1 workers are started.
  WorkerPool(std::uint32_t threads, Work work);
  /// Joins the workers; batches still queued (their owner is gone) are not processed.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `batch`; it must stay alive until wait() on it returned.
  void submit(Batch& batch);
  /// Returns once `batch` was processed, processing queued batches on the
  /// calling thread meanwhile.
  void wait(const Batch& batch);
  /// Whether `batch` was processed (it must have been submitted).
  [[nodiscard]] bool done(const Batch& batch);
  /// Processes one queued batch on the calling thread; false when none is queued.
  bool help_one();

 private:
  void work_loop();
  /// Pops the oldest queued batch and processes it (lock held on entry and
  /// return); false when none is queued.
  bool process_next(Scratch& scratch, std::unique_lock<std::mutex>& lock);
  /// Runs work_ on `batch` with the lock released, then marks it done.
  void process(Batch& batch, Scratch& scratch, std::unique_lock<std::mutex>& lock);

  Work work_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::condition_variable finished_;
  std::deque<Batch*> queue_;
  bool closing_ = false;
  Scratch caller_scratch_;  ///< the calling thread's, used inside wait()
  std::vector<std::thread> threads_;
};

}  // namespace wasmplug::cli
