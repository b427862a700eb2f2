#include "engine/log_queue.hpp"

#include <chrono>

namespace wasmplug::detail {

std::string escape_guest_text(std::string_view raw, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view kept = raw.substr(0, max_bytes);
  std::string out;
  out.reserve(kept.size());
  for (const char c : kept) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (raw.size() > kept.size()) {
    out += "... [truncated " + std::to_string(raw.size() - kept.size()) + " bytes]";
  }
  return out;
}

LogQueue::LogQueue(LogSink sink, std::size_t capacity, LogLevel min_level)
    : sink_(std::move(sink)), capacity_(capacity), min_level_(min_level), thread_([this] { deliver_loop(); }) {}

LogQueue::~LogQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LogQueue::push(std::string_view plugin, LogLevel level, std::string message) {
  if (level < min_level_) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    ++pushed_;
    if (queue_.size() >= capacity_) {
      ++dropped_;
      ++unreported_;
      ++done_;
      report_after_ = accepted_;
    } else {
      queue_.push_back(Record{std::string(plugin), level, std::move(message), ++accepted_});
    }
  }
  wake_.notify_one();
}

bool LogQueue::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = pushed_;
  return delivered_.wait_for(lock, timeout, [&] { return done_ >= target && unreported_ == 0; });
}

std::uint64_t LogQueue::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void LogQueue::deliver(const LogRecord& record) const noexcept {
  // The sink is the embedder's code on our thread: an exception from it has
  // nowhere to go, and losing one line beats terminating the process.
  try {
    sink_(record);
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
}

void LogQueue::deliver_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || unreported_ != 0; });
    // Records are dropped only when the queue is full, so they are newer
    // than every record queued then: the report goes right after those.
    if (unreported_ != 0 && (queue_.empty() || queue_.front().seq > report_after_)) {
      // Cleared only once delivered: flush() waits for the report too.
      const std::uint64_t count = unreported_;
      lock.unlock();
      const std::string message = "[" + std::to_string(count) + " log records dropped: the log queue (" +
                                  std::to_string(capacity_) + " records) was full]";
      deliver(LogRecord{"wasmplug", LogLevel::Warn, message});
      lock.lock();
      unreported_ -= count;
      delivered_.notify_all();
      continue;
    }
    if (queue_.empty()) {
      return;  // stopping, and everything was delivered
    }
    Record record = std::move(queue_.front());
    queue_.pop_front();
    // The sink runs without the lock: a slow sink only fills the queue.
    lock.unlock();
    deliver(LogRecord{record.plugin, record.level, record.message});
    lock.lock();
    ++done_;
    delivered_.notify_all();
  }
}

bool LogBudget::admit(std::size_t bytes, std::size_t raw_bytes, const RuntimeConfig& config) noexcept {
  if (lines_ + 1 > config.max_log_lines_per_call || bytes_ + bytes > config.max_log_bytes_per_call) {
    ++dropped_lines_;
    dropped_bytes_ += raw_bytes;
    return false;
  }
  ++lines_;
  bytes_ += bytes;
  return true;
}

bool LogBudget::deliver_partial(LogQueue& queue, std::string_view plugin, const RuntimeConfig& config) {
  Partial line = std::move(partial_);
  partial_ = Partial{};
  if (!admit(line.text.size(), line.raw, config)) {
    return false;
  }
  std::string message = escape_guest_text(line.text, config.max_log_message_bytes);
  if (line.raw > line.text.size()) {
    message += "... [truncated " + std::to_string(line.raw - line.text.size()) + " bytes]";
  }
  queue.push(plugin, line.level, std::move(message));
  return true;
}

void LogBudget::close_slow(LogQueue& queue, std::string_view plugin, const RuntimeConfig& config) {
  if (partial_.open) {
    (void)deliver_partial(queue, plugin, config);
  }
  if (dropped_lines_ != 0) {
    queue.push(plugin, LogLevel::Warn,
               "[" + std::to_string(dropped_lines_) + " lines / " + std::to_string(dropped_bytes_) +
                   " bytes over this call's log budget dropped]");
  }
  *this = LogBudget{};
}

}  // namespace wasmplug::detail
