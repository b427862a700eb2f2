// Guest log delivery off the calling thread: a bounded queue of records and
// one delivery thread that calls the embedder's LogSink, plus the per-call
// log budget and the escaping of guest text (log and fail messages).
//
// A guest call never waits for the sink: push() only appends to the queue
// (or, when it is full, counts the record as dropped). The delivery thread
// calls the sink one record at a time, in the order records were pushed, and
// reports drops in a record of its own, right after the last record that was
// queued before them (where the gap is).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <chrono>

#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

/// Guest bytes as printable text: control bytes (0x00-0x1f, 0x7f) become
/// "\xNN" escapes (a guest cannot split lines of a text log or end a C
/// string early); at most `max_bytes` input bytes are kept, and a cut is
/// marked "... [truncated N bytes]" (N: input bytes left out).
[[nodiscard]] std::string escape_guest_text(std::string_view raw, std::size_t max_bytes);

class LogQueue {
 public:
  /// Starts the delivery thread. `capacity` records may wait at most;
  /// records below `min_level` are dropped by push() (RuntimeConfig::min_log_level).
  LogQueue(LogSink sink, std::size_t capacity, LogLevel min_level = LogLevel::Trace);
  /// RuntimeConfig::min_log_level: host functions skip lines below it early.
  [[nodiscard]] bool wants(LogLevel level) const noexcept { return level >= min_level_; }
  /// Delivers the records still queued, then stops the thread.
  ~LogQueue();
  LogQueue(const LogQueue&) = delete;
  LogQueue& operator=(const LogQueue&) = delete;

  /// Queues one record; never blocks on the sink. When the queue is full the
  /// record is dropped and counted (reported later by the delivery thread).
  void push(std::string_view plugin, LogLevel level, std::string message);

  /// Waits until every record pushed before this call was delivered (or
  /// dropped), up to `timeout`. True when done. Must not be called from the
  /// sink (the delivery thread would wait for itself).
  [[nodiscard]] bool flush(std::chrono::milliseconds timeout);

  /// Records dropped because the queue was full, since creation.
  [[nodiscard]] std::uint64_t dropped() const;

 private:
  struct Record {
    std::string plugin;
    LogLevel level;
    std::string message;
    std::uint64_t seq;
  };
  void deliver_loop();
  void deliver(const LogRecord& record) const noexcept;

  LogSink sink_;
  std::size_t capacity_;
  LogLevel min_level_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;       // the delivery thread waits here
  std::condition_variable delivered_;  // flush() waits here
  std::deque<Record> queue_;
  std::uint64_t pushed_ = 0;      // records accepted or dropped
  std::uint64_t done_ = 0;        // records delivered or dropped
  std::uint64_t dropped_ = 0;     // total dropped (queue full)
  std::uint64_t unreported_ = 0;  // dropped, not yet reported to the sink
  std::uint64_t accepted_ = 0;    // sequence number of the last record queued
  std::uint64_t report_after_ = 0;  // drops are reported after this record
  bool stopping_ = false;
  std::thread thread_;
};

/// The log budget of one call (RuntimeConfig::max_log_lines_per_call,
/// max_log_bytes_per_call), and the line a guest is writing piece by piece
/// (WASI fd_write without a newline yet). Lives in the call's CallState.
class LogBudget {
 public:
  /// A line written without its newline so far: kept (at most
  /// max_log_message_bytes of it; `raw` counts all) until a newline, a write
  /// at another level, or the end of the call delivers it.
  struct Partial {
    std::string text;
    std::uint64_t raw = 0;
    LogLevel level = LogLevel::Info;
    bool open = false;
  };

  /// True when a line of `bytes` (as delivered) fits the budget and counts
  /// it; otherwise counts it as dropped (`raw_bytes`: what the guest passed).
  [[nodiscard]] bool admit(std::size_t bytes, std::size_t raw_bytes, const RuntimeConfig& config) noexcept;
  /// Counts `raw_bytes` the guest wrote as one dropped line without looking
  /// at them (the budget already refused a line of the same write).
  void drop(std::uint64_t raw_bytes) noexcept {
    ++dropped_lines_;
    dropped_bytes_ += raw_bytes;
  }
  [[nodiscard]] Partial& partial() noexcept { return partial_; }
  /// Delivers the partial line (escaped, cut and marked like any guest log
  /// text) if the budget admits it, and clears it. False when the budget
  /// refused it.
  bool deliver_partial(LogQueue& queue, std::string_view plugin, const RuntimeConfig& config);
  /// Ends the budget period: delivers a partial line, queues "[N lines / M
  /// bytes over this call's log budget dropped]" when lines were dropped,
  /// then starts afresh.
  void close(LogQueue& queue, std::string_view plugin, const RuntimeConfig& config) {
    if (partial_.open || dropped_lines_ != 0) [[unlikely]] {
      close_slow(queue, plugin, config);
      return;
    }
    lines_ = 0;
    bytes_ = 0;
  }

 private:
  void close_slow(LogQueue& queue, std::string_view plugin, const RuntimeConfig& config);

  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t dropped_lines_ = 0;
  std::uint64_t dropped_bytes_ = 0;
  Partial partial_;
};

}  // namespace wasmplug::detail
