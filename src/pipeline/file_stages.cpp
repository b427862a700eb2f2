// File and stdin sources, file and stdout sinks. Reads are bounded (a record
// over the limit is never held whole: it becomes a failed record with a
// prefix), writes are checked, and a blocked read returns when the pipeline
// stops (a self-pipe the source's interrupt() writes to).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pipeline/io.hpp"
#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

namespace {

constexpr std::size_t kPrefixBytes = detail::LineReader::kPrefixBytes;

Error io_error(std::string message, Phase phase = Phase::Load) {
  Error e;
  e.kind = ErrorKind::Io;
  e.phase = phase;
  e.message = std::move(message);
  return e;
}

std::string input_name(const std::string& path) { return path == "-" ? "stdin" : path; }

RecordError too_long(std::uint64_t bytes, std::uint32_t limit) {
  return RecordError{"source", "LimitExceeded", "input",
                     "record of " + std::to_string(bytes) + " bytes is larger than the source's max_record_bytes (" +
                         std::to_string(limit) + ")"};
}

/// Owns the input fd and the stop self-pipe.
class InputFd {
 public:
  InputFd(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~InputFd() {
    if (owned_) {
      ::close(fd_);
    }
    for (int p : wake_) {
      if (p >= 0) {
        ::close(p);
      }
    }
  }
  InputFd(const InputFd&) = delete;
  InputFd& operator=(const InputFd&) = delete;
  [[nodiscard]] bool open_wake() { return ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) == 0; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  [[nodiscard]] int wake_fd() const noexcept { return wake_[0]; }
  void interrupt() noexcept {
    stopped_.store(true);
    const char byte = 1;
    (void)!::write(wake_[1], &byte, 1);  // full pipe: it is readable already
  }
  [[nodiscard]] bool stopped() const noexcept { return stopped_.load(); }

 private:
  int fd_;
  bool owned_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopped_{false};
};

class LineSource final : public Source {
 public:
  LineSource(std::unique_ptr<InputFd> input, std::string name, std::uint32_t max_record_bytes)
      : input_(std::move(input)),
        name_(std::move(name)),
        max_record_bytes_(max_record_bytes),
        reader_(input_->fd(), max_record_bytes, 0, input_->wake_fd()) {}

  Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records, std::size_t max_bytes) override {
    if (ended_) {
      return PullStatus::End;
    }
    detail::LineReader::Line line;
    while (batch.size() < max_records && batch.byte_size() < max_bytes) {
      // Hand on what we have rather than wait for more input with records in hand.
      reader_.set_return_before_wait(!batch.empty());
      switch (reader_.next(line)) {
        case detail::LineReader::Status::Line:
          ++line_no_;
          if (line.too_long) {
            batch.add_failed(line.text, line.bytes, line_no_, too_long(line.bytes, max_record_bytes_));
          } else if (line.text.find_first_not_of(" \t") != std::string_view::npos) {
            batch.add(line.text, line_no_);
          }
          break;
        case detail::LineReader::Status::WouldBlock: return PullStatus::Records;
        case detail::LineReader::Status::End: ended_ = true; return PullStatus::End;
        case detail::LineReader::Status::Stopped: {
          // Stopped: the complete lines already read were delivered by next()
          // before it reported Stopped; a line cut off in the middle is a
          // failed record, so that nothing read is lost silently.
          ended_ = true;
          const std::string_view rest = reader_.buffered();
          if (!rest.empty() && rest.find_first_not_of(" \t\r\n") != std::string_view::npos) {
            batch.add_failed(rest.substr(0, kPrefixBytes), rest.size(), line_no_ + 1,
                             RecordError{"source", "Incomplete", "input",
                                         "the pipeline stopped after reading " + std::to_string(rest.size()) +
                                             " bytes of this record and before its end"});
          }
          return PullStatus::End;
        }
        case detail::LineReader::Status::Error:
          ended_ = true;
          return io_error("cannot read " + name_ + ": " + std::strerror(reader_.error()));
      }
    }
    return PullStatus::Records;
  }

  void interrupt() noexcept override { input_->interrupt(); }

 private:
  std::unique_ptr<InputFd> input_;
  std::string name_;
  std::uint32_t max_record_bytes_;
  detail::LineReader reader_;
  std::uint64_t line_no_ = 0;
  bool ended_ = false;
};

// Length-prefixed: 4 bytes big-endian length, then the record.
class PrefixedSource final : public Source {
 public:
  PrefixedSource(std::unique_ptr<InputFd> input, std::string name, std::uint32_t max_record_bytes)
      : input_(std::move(input)), name_(std::move(name)), max_record_bytes_(max_record_bytes) {}

  Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records, std::size_t max_bytes) override {
    while (!ended_ && batch.size() < max_records && batch.byte_size() < max_bytes) {
      std::uint8_t head[4];
      std::size_t got = 0;
      if (auto r = read_exact(head, 4, got, batch.empty()); !r) {
        return r.error();
      }
      if (got == 0 && !ended_ && !batch.empty()) {
        return PullStatus::Records;  // would block: hand on what we have
      }
      if (got < 4) {
        if (got > 0) {
          batch.add_failed({}, got, ++count_,
                           RecordError{"source", "Incomplete", "input",
                                       "the input ended inside a 4-byte length prefix"});
        }
        ended_ = true;
        break;
      }
      const std::uint32_t length = (std::uint32_t{head[0]} << 24) | (std::uint32_t{head[1]} << 16) |
                                   (std::uint32_t{head[2]} << 8) | std::uint32_t{head[3]};
      const std::size_t keep = length > max_record_bytes_ ? kPrefixBytes : length;
      record_.resize(keep);
      if (auto r = read_exact(record_.data(), keep, got, true); !r) {
        return r.error();
      }
      std::uint64_t total = got;
      if (got == keep && length > keep) {
        if (auto r = skip(length - keep, total); !r) {
          return r.error();
        }
      }
      ++count_;
      const std::string_view text(reinterpret_cast<const char*>(record_.data()), std::min<std::size_t>(got, keep));
      if (total < length) {
        batch.add_failed(text, total, count_,
                         RecordError{"source", "Incomplete", "input",
                                     "the input ended (or the pipeline stopped) after " + std::to_string(total) +
                                         " of the record's " + std::to_string(length) + " bytes"});
        ended_ = true;
      } else if (length > max_record_bytes_) {
        batch.add_failed(text, length, count_, too_long(length, max_record_bytes_));
      } else {
        batch.add(text, count_);
      }
    }
    return ended_ ? PullStatus::End : PullStatus::Records;
  }

  void interrupt() noexcept override { input_->interrupt(); }

 private:
  // Reads up to `size` bytes. Without `block`, returns got = 0 at once when
  // nothing is available. Sets ended_ at end of input or when stopped.
  Result<void> read_exact(std::uint8_t* out, std::size_t size, std::size_t& got, bool block) {
    got = 0;
    while (got < size) {
      pollfd fds[2] = {{input_->fd(), POLLIN, 0}, {input_->wake_fd(), POLLIN, 0}};
      const int ready = ::poll(fds, 2, block || got > 0 ? -1 : 0);
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (ready < 0) {
        return io_error("cannot read " + name_ + ": " + std::strerror(errno));
      }
      if (ready == 0) {
        return {};
      }
      if (fds[1].revents != 0 || input_->stopped()) {
        ended_ = true;
        return {};
      }
      const ssize_t n = ::read(input_->fd(), out + got, size - got);
      if (n == 0) {
        ended_ = true;
        return {};
      }
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
          continue;
        }
        return io_error("cannot read " + name_ + ": " + std::strerror(errno));
      }
      got += static_cast<std::size_t>(n);
    }
    return {};
  }

  Result<void> skip(std::uint64_t bytes, std::uint64_t& total) {
    std::uint8_t chunk[16384];
    while (bytes > 0 && !ended_) {
      std::size_t got = 0;
      if (auto r = read_exact(chunk, static_cast<std::size_t>(std::min<std::uint64_t>(bytes, sizeof chunk)), got, true);
          !r) {
        return r;
      }
      bytes -= got;
      total += got;
    }
    return {};
  }

  std::unique_ptr<InputFd> input_;
  std::string name_;
  std::uint32_t max_record_bytes_;
  std::vector<std::uint8_t> record_;
  std::uint64_t count_ = 0;
  bool ended_ = false;
};

class FileSink final : public Sink {
 public:
  FileSink(const std::string& path, Framing framing) : file_(path), framing_(framing) {}
  [[nodiscard]] bool ok() const { return file_.ok(); }
  [[nodiscard]] std::string error() const { return file_.error(); }

  Result<SinkStatus> push(const RecordBatch& batch) override {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch.entry(i).outcome != Outcome::Out) {
        continue;
      }
      if (framing_ == Framing::Lines) {
        file_.record(batch.record(i));
      } else {
        file_.record_prefixed(batch.record(i));
      }
    }
    // Written through to the fd at every batch: acknowledged records are
    // out of this process, and a stopped pipeline leaves whole records.
    if (!file_.flush()) {
      return io_error(file_.error(), Phase::Call);
    }
    return SinkStatus::Ready;
  }

  Result<void> complete() override {
    if (!file_.close()) {
      return io_error(file_.error(), Phase::Call);
    }
    return {};
  }

 private:
  detail::OutFile file_;
  Framing framing_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_file_source(const std::string& path, Framing framing,
                                                 std::uint32_t max_record_bytes) {
  if (max_record_bytes == 0 || max_record_bytes > (1u << 30)) {
    Error e;
    e.message = "source max_record_bytes must be 1..1 GiB, got " + std::to_string(max_record_bytes);
    return e;
  }
  std::string open_error;
  const int fd = detail::open_input(path, "source ", open_error);
  if (fd < 0) {
    return io_error(open_error);
  }
  auto input = std::make_unique<InputFd>(fd, fd != STDIN_FILENO);
  if (!input->open_wake()) {
    return io_error(std::string("cannot create the source's stop pipe: ") + std::strerror(errno));
  }
  if (framing == Framing::Lines) {
    return std::unique_ptr<Source>(std::make_unique<LineSource>(std::move(input), input_name(path), max_record_bytes));
  }
  return std::unique_ptr<Source>(
      std::make_unique<PrefixedSource>(std::move(input), input_name(path), max_record_bytes));
}

Result<std::unique_ptr<Sink>> make_file_sink(const std::string& path, Framing framing) {
  auto sink = std::make_unique<FileSink>(path, framing);
  if (!sink->ok()) {
    return io_error("sink: " + sink->error(), Phase::Config);
  }
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace wasmplug::pipeline
