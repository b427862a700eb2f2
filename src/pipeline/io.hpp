// File I/O of the CLI and of pipelines on plain file descriptors: every read is bounded, every
// write is checked (including the final flush and close), and every failure
// names the file and the errno text. iostreams hid both (unbounded getline,
// write errors only as a sticky bit with no errno).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmplug/error.hpp"

namespace wasmplug::detail {

/// "1 MiB", "64 KiB", "1000 bytes": sizes in messages.
[[nodiscard]] std::string format_size(std::uint64_t bytes);

/// Reads all of `path`, refusing more than `max_bytes` without reading the
/// rest: a regular file by its size before reading, anything else (a device,
/// a pipe) as soon as it passes the bound. Messages: "cannot read <what><path>:
/// <errno text>" (Io) or "<what><path> is larger than <limit>" (LimitExceeded).
[[nodiscard]] Result<std::vector<std::uint8_t>> read_file_bounded(const std::string& path, std::size_t max_bytes,
                                                                  std::string_view what, std::string_view limit);

/// Opens `path` for reading ("-" is stdin) and refuses directories up front.
/// Returns the fd (the caller closes it unless it is 0) or -1 with `error` set
/// to "cannot read <what><path>: <errno text>".
[[nodiscard]] int open_input(const std::string& path, std::string_view what, std::string& error);

/// Flushes stdout (stdio and iostreams share its buffer). Empty on success,
/// else "cannot write stdout: <errno text>".
[[nodiscard]] std::string flush_stdout();

/// A buffered writer of whole records to one fd. Each record goes out in one
/// piece together with its '\n', and the buffer is only written at record
/// boundaries, so the file ends on a record boundary whenever the process
/// stops. The first failed write is remembered (sticky): later writes are
/// dropped and failed() says so; error() names the file and the errno text.
/// Not thread-safe.
class OutFile {
 public:
  /// Opens `path` for writing (created/truncated); "-" is stdout, named "stdout".
  /// On failure ok() is false and error() says why.
  explicit OutFile(const std::string& path);
  /// Writes to an fd the caller owns (e.g. stderr), named `name`.
  OutFile(int fd, std::string name);
  ~OutFile();
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  /// `data` and a '\n', as one record. Records larger than the buffer are written through.
  void record(std::string_view data);
  /// `data` after its length as 4 bytes big-endian, as one record (length-prefixed framing).
  void record_prefixed(std::string_view data);
  /// Writes out the buffer. False once any write has failed.
  bool flush();
  /// Flushes and closes an fd this object opened; the close result counts
  /// (a file system may report a lost write only there). False on any failure.
  bool close();

  [[nodiscard]] bool ok() const noexcept { return errno_ == 0; }
  /// "cannot write <name>: <errno text>"; empty while ok().
  [[nodiscard]] std::string error() const;
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  bool write_all(const char* data, std::size_t size);
  void put(std::string_view head, std::string_view data, std::string_view tail);

  int fd_ = -1;
  bool owned_ = false;
  int errno_ = 0;
  std::string name_;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
};

/// Splits an fd into lines with bounded memory. A line longer than
/// `max_line` bytes is never held: its first kPrefixBytes are kept, the rest
/// is consumed in buffer-sized chunks and only counted, and it comes back
/// with too_long set so that the caller can fail that one record and go on.
/// Line views stay valid until the next call to next(); each is followed in
/// memory by at least `padding` readable bytes (simdjson parses in place).
class LineReader {
 public:
  static constexpr std::size_t kPrefixBytes = 256;

  struct Line {
    std::string_view text;    ///< the record without "\n" / "\r\n"; the prefix when too_long
    std::uint64_t bytes = 0;  ///< the record's full length
    bool too_long = false;
  };
  /// WouldBlock: only with set_return_before_wait(true), when the next line
  /// needs more input than is available right now.
  enum class Status : std::uint8_t { Line, End, Stopped, Error, WouldBlock };

  /// `wake_fd` (or -1): when it becomes readable, a blocked read returns
  /// Stopped instead of waiting for more input (the signal self-pipe).
  /// `before_wait` (may be empty) runs each time the reader is about to block
  /// on the fd: a streaming caller flushes its output there.
  LineReader(int fd, std::size_t max_line, std::size_t padding, int wake_fd, std::function<void()> before_wait = {});

  [[nodiscard]] Status next(Line& line);
  /// errno of the failed read after Status::Error.
  [[nodiscard]] int error() const noexcept { return errno_; }
  /// Records read from the fd but not yet returned: complete non-blank lines,
  /// a partial last line, a long line being skipped. For the summary after Stopped.
  [[nodiscard]] std::uint64_t unread_records() const;
  /// While set, next() returns WouldBlock instead of waiting for input (a
  /// pipeline source hands on the records it has before it blocks).
  void set_return_before_wait(bool on) noexcept { return_before_wait_ = on; }
  /// The bytes read from the fd and not yet returned as lines (a partial
  /// last line after Stopped); empty while a long line is being skipped.
  [[nodiscard]] std::string_view buffered() const noexcept {
    return skipping_ ? std::string_view() : std::string_view(buffer_.data() + begin_, end_ - begin_);
  }

 private:
  enum class Fill : std::uint8_t { Data, End, Stopped, Error, WouldBlock };
  Fill fill();
  Line take(std::size_t length);

  int fd_;
  int wake_fd_;
  std::function<void()> before_wait_;
  int errno_ = 0;
  std::size_t max_line_;
  std::size_t padding_;
  std::size_t capacity_;  ///< bytes usable for data; buffer_ has padding_ more
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  ///< start of the current line
  std::size_t scan_ = 0;   ///< searched for '\n' up to here
  std::size_t end_ = 0;    ///< end of the data read
  bool at_end_ = false;
  bool return_before_wait_ = false;
  bool skipping_ = false;      ///< inside a line longer than max_line
  std::uint64_t skipped_ = 0;  ///< its bytes so far
  std::string prefix_;         ///< its first kPrefixBytes
};

}  // namespace wasmplug::detail
