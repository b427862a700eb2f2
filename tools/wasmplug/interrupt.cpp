#include "interrupt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace wasmplug::cli {

namespace {

// A signal handler can reach nothing but globals; these two are all it touches.
volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_wake_fd = -1;

struct sigaction g_old_int {};
struct sigaction g_old_term {};
struct sigaction g_old_pipe {};

extern "C" void on_stop_signal(int signo) {
  const int saved_errno = errno;
  if (g_signal == 0) {
    g_signal = signo;
  }
  const char byte = 1;
  // Nonblocking: a full pipe already wakes the reader.
  [[maybe_unused]] const ssize_t n = ::write(g_wake_fd, &byte, 1);
  errno = saved_errno;
}

}  // namespace

StopSignals::StopSignals() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return;  // no self-pipe: signals keep their default action
  }
  read_fd_ = fds[0];
  g_wake_fd = fds[1];
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: library threads and blocking writes are not disturbed; our
  // poll() is woken by the pipe regardless.
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &g_old_pipe);
}

StopSignals::~StopSignals() {
  if (read_fd_ < 0) {
    return;
  }
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::sigaction(SIGPIPE, &g_old_pipe, nullptr);
  ::close(g_wake_fd);
  g_wake_fd = -1;
  ::close(read_fd_);
}

int StopSignals::received() const noexcept { return g_signal; }

const char* signal_name(int signo) noexcept {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace wasmplug::cli
