// SIGINT / SIGTERM as a request to stop: the handler only records the signal
// and wakes a self-pipe (both async-signal-safe); `run` notices between
// records or while waiting for input, finishes the record in flight, flushes
// and exits with 128 + the signal number.
#pragma once

namespace wasmplug::cli {

/// Installs the handlers for its lifetime (one instance at a time) and
/// ignores SIGPIPE, so that a closed output pipe is a write error (EPIPE)
/// with a message instead of a silent death. A second SIGINT/SIGTERM gets
/// the default action (SA_RESETHAND): a run stuck writing to a stalled
/// consumer can still be killed.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  /// The first signal received, 0 if none. One relaxed load: cheap per record.
  [[nodiscard]] int received() const noexcept;
  /// Becomes readable once a signal arrived; poll it beside the input.
  [[nodiscard]] int wake_fd() const noexcept { return read_fd_; }

 private:
  int read_fd_ = -1;
};

/// "SIGINT", "SIGTERM", else "signal N".
[[nodiscard]] const char* signal_name(int signo) noexcept;

}  // namespace wasmplug::cli
