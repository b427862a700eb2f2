#include "io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace wasmplug::detail {

namespace {

constexpr std::size_t kChunk = 64u << 10;

Error io_error(std::string message, ErrorKind kind = ErrorKind::Io) {
  Error e;
  e.kind = kind;
  e.phase = Phase::Load;
  e.message = std::move(message);
  return e;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

std::string format_size(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (1u << 20) == 0) {
    return std::to_string(bytes >> 20) + " MiB";
  }
  if (bytes != 0 && bytes % (1u << 10) == 0) {
    return std::to_string(bytes >> 10) + " KiB";
  }
  return std::to_string(bytes) + " bytes";
}

int open_input(const std::string& path, std::string_view what, std::string& error) {
  const int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  struct stat st {};
  if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    // open() succeeds on a directory; read() would fail later with a less clear story.
    err = EISDIR;
  }
  if (err != 0) {
    if (fd > STDIN_FILENO) {
      ::close(fd);
    }
    error = "cannot read " + std::string(what) + (path == "-" ? "stdin" : path) + ": " + std::strerror(err);
    return -1;
  }
  return fd;
}

Result<std::vector<std::uint8_t>> read_file_bounded(const std::string& path, std::size_t max_bytes,
                                                    std::string_view what, std::string_view limit) {
  std::string message;
  const int fd = open_input(path, what, message);
  if (fd < 0) {
    return io_error(std::move(message));
  }
  auto too_large = [&] {
    return io_error(std::string(what) + path + " is larger than " + std::string(limit), ErrorKind::LimitExceeded);
  };
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    if (fd != STDIN_FILENO) {
      ::close(fd);
    }
    return too_large();
  }
  // Devices and pipes have no size: read at most one byte past the bound.
  // Reserving the bound up front costs address space only, and spares the
  // copy (old and new buffer resident at once) that growing would make.
  std::vector<std::uint8_t> data;
  data.reserve(S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) + 1 : max_bytes + 1);
  std::size_t used = 0;
  int err = 0;
  for (;;) {
    if (used > max_bytes) {
      break;
    }
    data.resize(std::min(max_bytes + 1, used + kChunk));
    const ssize_t n = ::read(fd, data.data() + used, data.size() - used);
    if (n > 0) {
      used += static_cast<std::size_t>(n);
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      err = errno;
      break;
    }
  }
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  if (err != 0) {
    return io_error("cannot read " + std::string(what) + path + ": " + std::strerror(err));
  }
  if (used > max_bytes) {
    return too_large();
  }
  data.resize(used);
  return data;
}

std::string flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    return std::string("cannot write stdout: ") + std::strerror(errno != 0 ? errno : EIO);
  }
  return {};
}

// ---- OutFile

OutFile::OutFile(const std::string& path) : buffer_(kChunk) {
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    name_ = "stdout";
    return;
  }
  name_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    errno_ = errno;
  } else {
    owned_ = true;
  }
}

OutFile::OutFile(int fd, std::string name) : fd_(fd), name_(std::move(name)), buffer_(kChunk) {}

OutFile::~OutFile() {
  if (owned_ && fd_ >= 0) {
    ::close(fd_);
  }
}

void OutFile::record(std::string_view data) { put({}, data, "\n"); }

void OutFile::record_prefixed(std::string_view data) {
  const auto n = static_cast<std::uint32_t>(data.size());
  const char head[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                        static_cast<char>(n)};
  put({head, 4}, data, {});
}

void OutFile::put(std::string_view head, std::string_view data, std::string_view tail) {
  if (errno_ != 0) {
    return;
  }
  const std::size_t size = head.size() + data.size() + tail.size();
  if (used_ + size > buffer_.size() && !flush()) {
    return;
  }
  if (size > buffer_.size()) {
    // Larger than the buffer: straight through. The writes follow each
    // other with nothing in between that could stop the process.
    (void)(write_all(head.data(), head.size()) && write_all(data.data(), data.size()) &&
           write_all(tail.data(), tail.size()));
    return;
  }
  for (std::string_view piece : {head, data, tail}) {
    if (!piece.empty()) {
      std::memcpy(buffer_.data() + used_, piece.data(), piece.size());
      used_ += piece.size();
    }
  }
}

bool OutFile::flush() {
  if (errno_ == 0 && used_ > 0) {
    (void)write_all(buffer_.data(), used_);
  }
  used_ = 0;
  return errno_ == 0;
}

bool OutFile::close() {
  (void)flush();
  if (owned_ && fd_ >= 0) {
    // Linux releases the fd even when close fails; never retry it.
    if (::close(fd_) != 0 && errno_ == 0) {
      errno_ = errno;
    }
    fd_ = -1;
  }
  return errno_ == 0;
}

std::string OutFile::error() const {
  return errno_ == 0 ? std::string() : "cannot write " + name_ + ": " + std::strerror(errno_);
}

bool OutFile::write_all(const char* data, std::size_t size) {
  if (fd_ < 0) {
    errno_ = errno_ != 0 ? errno_ : EBADF;
    return false;
  }
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      errno_ = n < 0 ? errno : EIO;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// ---- LineReader

LineReader::LineReader(int fd, std::size_t max_line, std::size_t padding, int wake_fd,
                       std::function<void()> before_wait)
    : fd_(fd),
      wake_fd_(wake_fd),
      before_wait_(std::move(before_wait)),
      max_line_(max_line),
      padding_(padding),
      // Start small; grow only as far as one line within the limit needs.
      capacity_(std::min(kChunk, max_line + 2)),
      buffer_(capacity_ + padding) {}

LineReader::Line LineReader::take(std::size_t length) {
  if (skipping_) {
    skipping_ = false;
    return Line{prefix_, skipped_ + length, true};
  }
  std::string_view text(buffer_.data() + begin_, length);
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  if (text.size() > max_line_) {
    return Line{text.substr(0, kPrefixBytes), text.size(), true};
  }
  return Line{text, text.size(), false};
}

LineReader::Status LineReader::next(Line& line) {
  for (;;) {
    const char* base = buffer_.data();
    if (const void* nl = std::memchr(base + scan_, '\n', end_ - scan_); nl != nullptr) {
      const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      line = take(at - begin_);
      begin_ = scan_ = at + 1;
      return Status::Line;
    }
    scan_ = end_;
    if (!skipping_ && end_ - begin_ > max_line_ + 1) {
      // Too long for any record within the limit, even after dropping a '\r':
      // keep a prefix for the errors file and from now on only count bytes.
      skipping_ = true;
      skipped_ = 0;
      prefix_.assign(base + begin_, std::min(end_ - begin_, kPrefixBytes));
    }
    if (skipping_) {
      skipped_ += end_ - begin_;
      begin_ = scan_ = end_;
    }
    if (at_end_) {
      if (skipping_ || end_ > begin_) {
        line = take(end_ - begin_);
        begin_ = scan_ = end_;
        return Status::Line;
      }
      return Status::End;
    }
    if (begin_ > 0) {
      std::memmove(buffer_.data(), base + begin_, end_ - begin_);
      end_ -= begin_;
      scan_ -= begin_;
      begin_ = 0;
    }
    if (end_ == capacity_) {
      // Only reached while the pending line is within the limit (else we skip).
      capacity_ = std::min(capacity_ * 2, max_line_ + 2);
      buffer_.resize(capacity_ + padding_);
    }
    switch (fill()) {
      case Fill::Data: break;
      case Fill::End: at_end_ = true; break;
      case Fill::Stopped: return Status::Stopped;
      case Fill::WouldBlock: return Status::WouldBlock;
      case Fill::Error: return Status::Error;
    }
  }
}

LineReader::Fill LineReader::fill() {
  bool waited = false;
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};  // poll skips a negative fd
    int ready = ::poll(fds, 2, 0);
    if (ready == 0 && return_before_wait_) {
      return Fill::WouldBlock;
    }
    if (ready == 0 && !waited) {
      // About to block on input: let the caller flush what it has written,
      // so that a slow upstream still sees its records come out.
      waited = true;
      if (before_wait_) {
        before_wait_();
      }
      continue;
    }
    if (ready == 0) {
      ready = ::poll(fds, 2, -1);
    }
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      errno_ = errno;
      return Fill::Error;
    }
    if (fds[1].revents != 0) {
      return Fill::Stopped;
    }
    if (fds[0].revents == 0) {
      continue;
    }
    const ssize_t n = ::read(fd_, buffer_.data() + end_, capacity_ - end_);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return Fill::Data;
    }
    if (n == 0) {
      return Fill::End;
    }
    if (errno != EINTR && errno != EAGAIN) {
      errno_ = errno;
      return Fill::Error;
    }
  }
}

std::uint64_t LineReader::unread_records() const {
  if (skipping_) {
    return 1;
  }
  std::uint64_t records = 0;
  std::string_view rest(buffer_.data() + begin_, end_ - begin_);
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view piece = rest.substr(0, nl);
    records += blank(piece) ? 0 : 1;
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return records;
}

}  // namespace wasmplug::detail
