// Records in batches through N worker threads, handed back in input order:
// the reader fills a Batch, submit() queues it, any idle worker processes it
// whole, and wait() on the oldest batch gives the writer its results in the
// order the records came. The caller bounds how many batches are in flight.
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
  /// Processes every item of a batch; called on a worker thread with that worker's Scratch.
  using Work = std::function<void(Batch&, Scratch&)>;

  WorkerPool(std::uint32_t threads, Work work);
  /// Finishes the queued batches, then joins the workers.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `batch`; it must stay alive until wait() on it returned.
  void submit(Batch& batch);
  /// Blocks until `batch` was processed.
  void wait(const Batch& batch);

 private:
  void work_loop();

  Work work_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::condition_variable finished_;
  std::deque<Batch*> queue_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wasmplug::cli
