// The metrics HTTP server. cpp-httplib parses requests, routes them and
// writes responses; the sockets, threads and bounds are ours: httplib 0.11's
// own listen() queues accepted connections without limit, times out each
// read separately (a client sending a byte every few seconds is never cut
// off) and buffers a header line of any length before checking it. So one
// thread accepts, at most max_connections sockets are open, each request is
// read through a stream with one deadline for the whole request and a byte
// budget, and httplib's Server::process_request answers it.
#include "wasmplug/metrics_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <httplib.h>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace wasmplug {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
// After the response, the connection is half-closed and what the client still
// sends is read and dropped, up to these bounds, before close(): closing with
// unread bytes makes the kernel send RST, which can destroy the response
// (e.g. the 400 for an oversized request) before the client reads it.
constexpr auto kLinger = std::chrono::milliseconds(1000);
constexpr std::size_t kLingerBytes = 64u << 10;
constexpr const char kRefused[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 44\r\n"
    "Connection: close\r\n\r\nmetrics server: too many open connections.\r\n";

Error invalid(std::string message) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, "", "", std::move(message)};
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

// Waits until `fd` has `events` or the deadline passes; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) {
      return true;
    }
    if (n == 0) {
      if (Clock::now() >= deadline) {
        return false;
      }
      continue;  // the wait was capped at 60 s
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

std::string format_address(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  std::uint16_t port = 0;
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
    port = ntohs(a.sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
  ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
  port = ntohs(a.sin_port);
  return std::string(host) + ":" + std::to_string(port);
}

// One connection as httplib sees it: reads come from a buffer refilled from
// the socket until the request's deadline or byte budget runs out (then EOF,
// which httplib answers 400 if the request is incomplete); writes wait for the
// socket until the response's deadline.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, Clock::time_point read_deadline, std::chrono::milliseconds write_timeout,
                   std::size_t budget)
      : fd_(fd), read_deadline_(read_deadline), write_timeout_(write_timeout), budget_(budget) {}

  bool is_readable() const override { return pos_ < end_; }
  bool is_writable() const override { return true; }  // write() waits itself, with its deadline

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == end_ && !fill()) {
      return failed_ ? -1 : 0;
    }
    const std::size_t n = std::min(size, end_ - pos_);
    std::memcpy(ptr, buf_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!write_started_) {
      write_started_ = true;
      write_deadline_ = Clock::now() + write_timeout_;
    }
    for (;;) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        return n;
      }
      if (errno == EINTR) {
        continue;
      }
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(fd_, POLLOUT, write_deadline_)) {
        return -1;
      }
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { name_of(&::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { name_of(&::getsockname, ip, port); }
  socket_t socket() const override { return fd_; }

 private:
  bool fill() {
    if (budget_ == 0) {
      return false;  // over max_request_bytes: EOF for httplib
    }
    for (;;) {
      const ssize_t n = ::recv(fd_, buf_.data(), std::min(buf_.size(), budget_), MSG_DONTWAIT);
      if (n > 0) {
        budget_ -= static_cast<std::size_t>(n);
        pos_ = 0;
        end_ = static_cast<std::size_t>(n);
        return true;
      }
      if (n == 0) {
        return false;
      }
      if (errno == EINTR) {
        continue;
      }
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(fd_, POLLIN, read_deadline_)) {
        failed_ = true;  // an error, or the request did not arrive in time
        return false;
      }
    }
  }

  void name_of(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (get(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    const std::string text = format_address(addr);
    const std::size_t colon = text.rfind(':');
    ip = text.substr(0, colon);
    port = std::atoi(text.c_str() + colon + 1);
  }

  int fd_;
  Clock::time_point read_deadline_;
  std::chrono::milliseconds write_timeout_;
  Clock::time_point write_deadline_{};
  bool write_started_ = false;
  std::size_t budget_;
  std::array<char, 4096> buf_{};
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  bool failed_ = false;
};

// httplib's request handling (parsing, routing, responses) on our stream.
class HttpServer final : public httplib::Server {
 public:
  void serve(httplib::Stream& stream) {
    bool closed = false;
    (void)process_request(stream, true, closed, {});
  }
};

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t length = 0;
};

Result<Endpoint> resolve(const std::string& address) {
  const std::string what = "metrics address '" + address + "'";
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return invalid(what + " has no port: give HOST:PORT, e.g. 127.0.0.1:9464 (port 0 picks a free one)");
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return invalid(what + ": write an IPv6 address in brackets, e.g. [::1]:9464");
  }
  if (host.empty()) {
    return invalid(what + " has no host: give e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for every interface");
  }
  const bool digits = std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (port.empty() || port.size() > 5 || !digits || std::stoul(port) > 65535) {
    return invalid(what + ": the port must be a number in 0..65535, got '" + port + "'");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0 || found == nullptr) {
    return invalid(what + ": cannot resolve host '" + host + "': " + ::gai_strerror(rc));
  }
  Endpoint endpoint;
  std::memcpy(&endpoint.addr, found->ai_addr, found->ai_addrlen);
  endpoint.length = found->ai_addrlen;
  ::freeaddrinfo(found);
  return endpoint;
}

Result<void> validate(const MetricsServerConfig& c) {
  auto check = [](const char* field, auto value, auto lo, auto hi, const char* unit) -> Result<void> {
    if (value < lo || value > hi) {
      return invalid(std::string("MetricsServerConfig::") + field + " must be in " + std::to_string(lo) + ".." +
                     std::to_string(hi) + unit + ", got " + std::to_string(value));
    }
    return {};
  };
  for (const Result<void>& r :
       {check("threads", c.threads, 1u, 16u, ""), check("max_connections", c.max_connections, 1u, 4096u, ""),
        check("max_request_bytes", c.max_request_bytes, std::size_t{1024}, std::size_t{1} << 20, " bytes"),
        check("read_timeout", c.read_timeout.count(), 1LL, 600'000LL, " ms"),
        check("write_timeout", c.write_timeout.count(), 1LL, 600'000LL, " ms")}) {
    if (!r) {
      return r;
    }
  }
  return {};
}

}  // namespace

struct MetricsServer::State {
  MetricsServerConfig config;
  std::shared_ptr<const PrometheusMetrics> metrics;
  HttpServer http;
  int listen_fd = -1;
  std::array<int, 2> wake{-1, -1};  // a byte on wake[1] ends the acceptor's poll
  std::uint16_t port = 0;
  std::string address;

  std::mutex mutex;
  std::condition_variable ready;
  std::deque<int> queue;  // accepted, waiting for a thread
  std::set<int> active;   // being answered
  std::size_t open = 0;   // queue + active
  bool stopping = false;
  std::atomic<std::uint64_t> refused{0};

  std::mutex render_mutex;
  std::vector<std::pair<std::uint64_t, MetricsRenderer>> renderers;
  std::uint64_t next_renderer = 1;

  std::thread acceptor;
  std::vector<std::thread> workers;

  ~State() {
    for (int fd : {listen_fd, wake[0], wake[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  void routes() {
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "GET" || req.method == "HEAD") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("method " + req.method + " not allowed: GET /metrics\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      try {
        std::string body = metrics ? metrics->render() : std::string();
        std::lock_guard lock(render_mutex);
        for (const auto& r : renderers) {
          r.second(body);
        }
        res.body = std::move(body);
        res.set_header("Content-Type", kContentType);
      } catch (const std::exception& e) {
        res.status = 500;
        res.set_content(std::string("rendering the metrics failed: ") + e.what() + "\n", "text/plain; charset=utf-8");
      } catch (...) {
        res.status = 500;
        res.set_content("rendering the metrics failed\n", "text/plain; charset=utf-8");
      }
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (res.status != 404 || !res.body.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          res.set_content("not found: " + req.path + " (this server serves /metrics)\n", "text/plain; charset=utf-8");
          return httplib::Server::HandlerResponse::Handled;
        }));
  }

  void accept_loop() {
    std::array<pollfd, 2> fds{pollfd{listen_fd, POLLIN, 0}, pollfd{wake[0], POLLIN, 0}};
    for (;;) {
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
        return;
      }
      {
        std::lock_guard lock(mutex);
        if (stopping) {
          return;
        }
      }
      for (;;) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            // Out of descriptors: the pending connection stays in the
            // backlog; try again shortly rather than spin on poll.
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
          break;
        }
        admit(fd);
      }
    }
  }

  void admit(int fd) {
    {
      std::lock_guard lock(mutex);
      if (!stopping && open < config.max_connections) {
        ++open;
        queue.push_back(fd);
        ready.notify_one();
        return;
      }
    }
    refused.fetch_add(1, std::memory_order_relaxed);
    (void)::send(fd, kRefused, sizeof kRefused - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
  }

  void work() {
    for (;;) {
      int fd = -1;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) {
          return;
        }
        fd = queue.front();
        queue.pop_front();
        active.insert(fd);
      }
      answer(fd);
      {
        std::lock_guard lock(mutex);
        active.erase(fd);
        --open;
      }
      ::close(fd);
    }
  }

  void answer(int fd) {
    const auto start = Clock::now();
    ConnectionStream stream(fd, start + config.read_timeout, config.write_timeout, config.max_request_bytes);
    try {
      http.serve(stream);
    } catch (...) {
      // httplib failed (allocation): the connection is dropped without an
      // answer rather than the exception ending the process on this thread.
      ::shutdown(fd, SHUT_RDWR);
    }
    ::shutdown(fd, SHUT_WR);
    const auto linger_end = Clock::now() + kLinger;
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    while (drained < kLingerBytes && wait_for(fd, POLLIN, linger_end)) {
      const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        break;
      }
      drained += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
  }

  void stop() noexcept {
    {
      std::lock_guard lock(mutex);
      if (stopping) {
        return;
      }
      stopping = true;
      // Threads blocked on a client's socket wake up to EOF or EPIPE.
      for (int fd : active) {
        ::shutdown(fd, SHUT_RDWR);
      }
      for (int fd : queue) {
        ::close(fd);
      }
      open -= queue.size();
      queue.clear();
    }
    ready.notify_all();
    const char byte = 1;
    (void)!::write(wake[1], &byte, 1);
    if (acceptor.joinable()) {
      acceptor.join();
    }
    for (std::thread& t : workers) {
      if (t.joinable()) {
        t.join();
      }
    }
  }
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(MetricsServerConfig config,
                                                            std::shared_ptr<const PrometheusMetrics> metrics) {
  if (auto ok = validate(config); !ok) {
    return std::move(ok).error();
  }
  auto endpoint = resolve(config.address);
  if (!endpoint) {
    return std::move(endpoint).error();
  }
  auto state = std::make_unique<State>();
  auto io_error = [&](const std::string& doing) {
    return Error{ErrorKind::Io, Phase::Config, "", "",
                 doing + " metrics address '" + config.address + "': " + std::strerror(errno)};
  };
  state->listen_fd = ::socket(endpoint->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (state->listen_fd < 0) {
    return io_error("cannot open a socket for");
  }
  // SO_REUSEADDR lets a restarted process bind while old connections linger
  // in TIME_WAIT; not SO_REUSEPORT (httplib's default), which would let two
  // processes share the port silently instead of reporting it in use.
  const int yes = 1;
  (void)::setsockopt(state->listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(state->listen_fd, reinterpret_cast<const sockaddr*>(&endpoint->addr), endpoint->length) != 0) {
    return io_error("cannot bind");
  }
  if (::listen(state->listen_fd, 64) != 0) {
    return io_error("cannot listen on");
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (::getsockname(state->listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return io_error("cannot read the port bound for");
  }
  if (::pipe2(state->wake.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
    return io_error("cannot create a wake-up pipe for");
  }
  state->address = format_address(bound);
  state->port = static_cast<std::uint16_t>(std::stoul(state->address.substr(state->address.rfind(':') + 1)));
  state->config = std::move(config);
  state->metrics = std::move(metrics);
  state->routes();

  State* s = state.get();
  try {
    s->acceptor = std::thread([s] { s->accept_loop(); });
    for (std::uint32_t i = 0; i < s->config.threads; ++i) {
      s->workers.emplace_back([s] { s->work(); });
    }
  } catch (const std::system_error& e) {
    s->stop();
    return Error{ErrorKind::Io, Phase::Config, "", "",
                 "cannot start the metrics server threads for '" + s->config.address + "': " + e.what()};
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(state)));
}

MetricsServer::MetricsServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() noexcept { state_->stop(); }

std::uint16_t MetricsServer::port() const noexcept { return state_->port; }

std::string MetricsServer::address() const { return state_->address; }

std::uint64_t MetricsServer::connections_refused() const noexcept {
  return state_->refused.load(std::memory_order_relaxed);
}

std::uint64_t MetricsServer::add_renderer(MetricsRenderer renderer) {
  std::lock_guard lock(state_->render_mutex);
  state_->renderers.emplace_back(state_->next_renderer, std::move(renderer));
  return state_->next_renderer++;
}

void MetricsServer::remove_renderer(std::uint64_t id) {
  std::lock_guard lock(state_->render_mutex);
  std::erase_if(state_->renderers, [id](const auto& r) { return r.first == id; });
}

}  // namespace wasmplug
