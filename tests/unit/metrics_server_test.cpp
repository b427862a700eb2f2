// MetricsServer: GET /metrics over real loopback sockets, the answers to
// everything else, and the bounds a hostile client meets.
#include "wasmplug/metrics_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// A blocking client socket connected to 127.0.0.1:port; reads time out after 20 s.
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Everything the server sends until it closes (or a read fails).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

struct Reply {
  int status = 0;  ///< 0: closed without an answer
  std::string head;
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    const std::size_t at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) {
      return "<none>";
    }
    const std::size_t start = at + name.size() + 4;
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

Reply parse(const std::string& raw) {
  Reply r;
  const std::size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) {
    return r;
  }
  r.status = std::atoi(raw.c_str() + 9);
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  return r;
}

Reply request(std::uint16_t port, const std::string& text) {
  const int fd = connect_to(port);
  send_all(fd, text);
  Reply r = parse(read_all(fd));
  ::close(fd);
  return r;
}

Reply get(std::uint16_t port, const std::string& path = "/metrics") {
  return request(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

std::unique_ptr<MetricsServer> start(MetricsServerConfig config = {},
                                     std::shared_ptr<const PrometheusMetrics> metrics = nullptr) {
  config.address = "127.0.0.1:0";
  auto server = MetricsServer::start(config, std::move(metrics));
  if (!server) {
    ADD_FAILURE() << server.error().to_string();
    return nullptr;
  }
  return std::move(server).value();
}

std::size_t thread_count() {
  std::size_t n = 0;
  DIR* dir = ::opendir("/proc/self/task");
  while (const dirent* e = ::readdir(dir)) {
    n += e->d_name[0] != '.' ? 1 : 0;
  }
  ::closedir(dir);
  return n;
}

// True when the server closed `fd` within `limit` (EOF or reset).
bool closed_within(int fd, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  char buf[4096];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) {
        return true;
      }
    }
  }
  return false;
}

TEST(MetricsServer, ServesTheRuntimesMetricsAndTheRenderers) {
  auto metrics = std::make_shared<PrometheusMetrics>();
  RuntimeConfig config;
  config.metrics = metrics;
  auto rt = make_runtime(config);
  auto plugin = load_guest(*rt, "stateful");
  ASSERT_TRUE(plugin);
  ASSERT_TRUE(rt->call(*plugin, Hook::Transform, bytes("x")).ok());
  ASSERT_TRUE(rt->call(*plugin, Hook::Transform, bytes("x")).ok());

  auto server = start({}, metrics);
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(server->port()));
  const std::uint64_t stages = server->add_renderer([](std::string& out) {
    out += "# HELP wasmplug_stage_records_total Records through a stage.\n"
           "# TYPE wasmplug_stage_records_total counter\n"
           "wasmplug_stage_records_total{stage=\"redact\"} 7\n";
  });

  Reply r = get(server->port());
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.header("Content-Type"), kContentType);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(has(r.body, "wasmplug_calls_total{plugin=\"stateful\",hook=\"transform\"} 2\n")) << r.body;
  EXPECT_TRUE(has(r.body, "wasmplug_call_duration_seconds_count{plugin=\"stateful\",hook=\"transform\"} 2\n"));
  // The renderer's text follows the sink's, whole.
  EXPECT_GT(r.body.find("wasmplug_stage_records_total{stage=\"redact\"} 7\n"), r.body.find("wasmplug_calls_total"));

  // Live: a call made now is in the next scrape.
  ASSERT_TRUE(rt->call(*plugin, Hook::Transform, bytes("x")).ok());
  EXPECT_TRUE(has(get(server->port()).body, "wasmplug_calls_total{plugin=\"stateful\",hook=\"transform\"} 3\n"));

  server->remove_renderer(stages);
  EXPECT_FALSE(has(get(server->port()).body, "wasmplug_stage_records_total"));

  Reply head = request(server->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Type"), kContentType);
  EXPECT_TRUE(head.body.empty());
}

TEST(MetricsServer, OnlyRenderersWithoutASink) {
  auto server = start();
  ASSERT_TRUE(server);
  server->add_renderer([](std::string& out) { out += "# TYPE only counter\nonly 1\n"; });
  Reply r = get(server->port());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "# TYPE only counter\nonly 1\n");
}

TEST(MetricsServer, OtherPathsAre404AndOtherMethods405) {
  auto server = start({}, std::make_shared<PrometheusMetrics>());
  ASSERT_TRUE(server);
  for (const char* path : {"/", "/metrics/x", "/metricsx", "/favicon.ico"}) {
    Reply r = get(server->port(), path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_TRUE(has(r.body, "this server serves /metrics")) << r.body;
  }
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    Reply r = request(server->port(), std::string(method) +
                                          " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.header("Allow"), "GET, HEAD") << method;
  }
  EXPECT_EQ(request(server->port(), "not http at all\r\n\r\n").status, 400);
  EXPECT_EQ(get(server->port()).status, 200);  // still serving
}

TEST(MetricsServer, ARendererThatThrowsFailsThatScrapeOnly) {
  auto server = start();
  ASSERT_TRUE(server);
  std::atomic<bool> fail{true};
  server->add_renderer([&fail](std::string& out) {
    if (fail) {
      throw std::runtime_error("stage table busy");
    }
    out += "# TYPE ok gauge\nok 1\n";
  });
  Reply r = get(server->port());
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(has(r.body, "rendering the metrics failed: stage table busy")) << r.body;
  fail = false;
  EXPECT_EQ(get(server->port()).status, 200);
}

TEST(MetricsServer, OversizedRequestIs400AndHeldToTheLimitInMemory) {
  MetricsServerConfig config;
  config.max_request_bytes = 8192;
  auto server = start(config);
  ASSERT_TRUE(server);
  // 16 KiB of headers: the first 8 KiB are read, the request is incomplete: 400.
  Reply r = request(server->port(),
                    "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 << 10, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 400) << r.head;

  // An endless header line (no newline, ever): without the byte budget the
  // server would buffer all of it. Up to 64 MiB are sent; the server stops
  // reading and closes, and its memory stays put.
  const std::size_t before = rss_bytes();
  const int fd = connect_to(server->port());
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  send_all(fd, "GET /metrics HTTP/1.1\r\nX-Endless: ");
  const std::string chunk(64 << 10, 'b');
  std::size_t sent = 0;
  while (sent < (64u << 20)) {
    const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      break;  // the server closed (EPIPE / reset) or stopped reading (timeout)
    }
    sent += static_cast<std::size_t>(n);
  }
  ::close(fd);
  EXPECT_LT(sent, 64u << 20) << "the server read 64 MiB of one request";
  EXPECT_LT(rss_bytes(), before + (8u << 20)) << "sent " << sent;
  EXPECT_EQ(get(server->port()).status, 200);
}

TEST(MetricsServer, TricklingClientIsCutOffAtTheRequestDeadline) {
  MetricsServerConfig config;
  config.read_timeout = 1500ms;
  auto server = start(config);
  ASSERT_TRUE(server);
  // One byte every 300 ms: each read is quick, the request never completes.
  // A per-read timeout would let this client hold a thread forever.
  const int fd = connect_to(server->port());
  const std::string request = "GET /metrics HTTP/1.1\r\nX-Slow: " + std::string(200, 'z');
  const auto start_time = Clock::now();
  bool cut = false;
  for (char c : request) {
    if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1 || closed_within(fd, 300ms)) {
      cut = true;
      break;
    }
  }
  const auto held = Clock::now() - start_time;
  ::close(fd);
  EXPECT_TRUE(cut) << "the server never closed the trickling connection";
  EXPECT_LT(held, 15s);  // generous: the deadline is 1.5 s
  EXPECT_EQ(get(server->port()).status, 200);
}

TEST(MetricsServer, ConnectionsPastTheLimitAre503AndThreadsStayFixed) {
  MetricsServerConfig config;
  config.threads = 2;
  config.max_connections = 4;
  config.read_timeout = 2000ms;
  auto server = start(config);
  ASSERT_TRUE(server);
  const std::size_t threads = thread_count();
  const std::size_t before = rss_bytes();

  // Four clients that connect and say nothing: two hold the threads, two wait.
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connect_to(server->port()));
  }
  // The acceptor takes connections in order, so every one from here is past the limit.
  // They send nothing: the 503 is written at accept, and no unread request
  // makes the server's close a reset that could race the answer.
  for (int i = 0; i < 50; ++i) {
    const int fd = connect_to(server->port());
    Reply r = parse(read_all(fd));
    ::close(fd);
    ASSERT_EQ(r.status, 503) << i;
    EXPECT_TRUE(has(r.body, "too many open connections")) << r.body;
  }
  EXPECT_EQ(server->connections_refused(), 50u);
  EXPECT_EQ(thread_count(), threads);
  EXPECT_LT(rss_bytes(), before + (4u << 20));

  // The idle clients are closed at their request deadline (the last two once
  // a thread takes them up); then the server answers again.
  for (int fd : idle) {
    EXPECT_TRUE(closed_within(fd, 20s));
    ::close(fd);
  }
  Reply r;
  for (auto end = Clock::now() + 20s; Clock::now() < end && r.status != 200;) {
    r = get(server->port());
  }
  EXPECT_EQ(r.status, 200);
}

TEST(MetricsServer, StopWithClientsConnectedReturnsPromptly) {
  MetricsServerConfig config;
  config.threads = 1;
  config.max_connections = 3;
  config.read_timeout = 60s;
  auto server = start(config);
  ASSERT_TRUE(server);
  const int answering = connect_to(server->port());  // taken up by the thread, no request yet
  send_all(answering, "GET /metrics HTTP/1.1\r\n");
  const int queued = connect_to(server->port());  // waits for the thread
  std::this_thread::sleep_for(200ms);
  const auto start_time = Clock::now();
  server.reset();
  EXPECT_LT(Clock::now() - start_time, 10s) << "stop waited for a client (read timeout 60 s)";
  EXPECT_TRUE(closed_within(answering, 5s));
  EXPECT_TRUE(closed_within(queued, 5s));
  ::close(answering);
  ::close(queued);
}

TEST(MetricsServer, BadAddressesAndConfigsSayWhat) {
  for (const char* address : {"nonsense", "127.0.0.1", ":9464", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:http",
                              "::1:9464", "[::1:9464", "no-such-host.invalid:9464", "999.1.1.1:80"}) {
    MetricsServerConfig config;
    config.address = address;
    auto server = MetricsServer::start(config, nullptr);
    ASSERT_FALSE(server.ok()) << address;
    EXPECT_EQ(server.error().kind, ErrorKind::InvalidArgument) << address;
    EXPECT_EQ(server.error().phase, Phase::Config);
    EXPECT_TRUE(has(server.error().message, std::string("metrics address '") + address + "'"))
        << server.error().message;
  }

  auto first = start();
  ASSERT_TRUE(first);
  MetricsServerConfig busy;
  busy.address = first->address();
  auto second = MetricsServer::start(busy, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::Io);
  EXPECT_EQ(second.error().message, "cannot bind metrics address '" + busy.address + "': Address already in use");
  EXPECT_EQ(get(first->port()).status, 200);  // the first one is untouched

  auto bad = [](auto change, const char* field) {
    MetricsServerConfig config;
    config.address = "127.0.0.1:0";
    change(config);
    auto server = MetricsServer::start(config, nullptr);
    ASSERT_FALSE(server.ok()) << field;
    EXPECT_EQ(server.error().kind, ErrorKind::InvalidArgument);
    EXPECT_TRUE(has(server.error().message, std::string("MetricsServerConfig::") + field)) << server.error().message;
  };
  bad([](MetricsServerConfig& c) { c.threads = 0; }, "threads");
  bad([](MetricsServerConfig& c) { c.threads = 17; }, "threads");
  bad([](MetricsServerConfig& c) { c.max_connections = 0; }, "max_connections");
  bad([](MetricsServerConfig& c) { c.max_request_bytes = 100; }, "max_request_bytes");
  bad([](MetricsServerConfig& c) { c.max_request_bytes = std::size_t{1} << 40; }, "max_request_bytes");
  bad([](MetricsServerConfig& c) { c.read_timeout = 0ms; }, "read_timeout");
  bad([](MetricsServerConfig& c) { c.write_timeout = -1ms; }, "write_timeout");
}

TEST(MetricsServer, IPv6LoopbackWhenAvailable) {
  MetricsServerConfig config;
  config.address = "[::1]:0";
  auto server = MetricsServer::start(config, nullptr);
  if (!server.ok()) {
    GTEST_SKIP() << "no IPv6 loopback here: " << server.error().to_string();
  }
  EXPECT_EQ((*server)->address(), "[::1]:" + std::to_string((*server)->port()));
}

}  // namespace
}  // namespace wasmplug::test
