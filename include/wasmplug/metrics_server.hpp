// wasmplug — a small HTTP server for Prometheus: `GET /metrics` renders a
// PrometheusMetrics sink and any number of extra renderers (e.g. a pipeline's
// per-stage series) in the text exposition format.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "wasmplug/error.hpp"
#include "wasmplug/metrics.hpp"

namespace wasmplug {

/// Bounds of the metrics server. Every field is validated by
/// MetricsServer::start (InvalidArgument naming the field).
struct MetricsServerConfig {
  /// "HOST:PORT" to listen on: an IPv4 address, a bracketed IPv6 address
  /// ("[::1]:9464") or a host name that resolves locally ("localhost").
  /// Port 0 picks a free port (MetricsServer::port() says which).
  /// Default: loopback only; "0.0.0.0:9464" listens on every interface.
  std::string address = "127.0.0.1:9464";
  /// Threads answering requests (fixed; 1..16). One more thread accepts.
  std::uint32_t threads = 2;
  /// Connections open at once, waiting or being answered (1..4096). A
  /// connection past it is answered 503 and closed at once, so a flood of
  /// (slow) clients holds at most this many sockets and request buffers.
  std::uint32_t max_connections = 64;
  /// Most bytes read from one connection: request line, headers and any body
  /// (1 KiB..1 MiB). A longer request is answered 400 and closed.
  std::size_t max_request_bytes = 8192;
  /// The whole request must arrive within this time of its connection being
  /// taken up by a thread (a client trickling bytes cannot hold a thread
  /// longer), else the connection is closed (1 ms..10 min).
  std::chrono::milliseconds read_timeout{5000};
  /// The whole response must be taken by the client within this time, else
  /// the connection is closed (1 ms..10 min).
  std::chrono::milliseconds write_timeout{5000};
};

/// Appends Prometheus text (version 0.0.4: `# HELP`, `# TYPE` and samples,
/// each line ending in '\n') to `out`. Called on a server thread, one render
/// at a time; may throw (the scrape then fails with 500).
using MetricsRenderer = std::function<void(std::string& out)>;

/// Serves `GET /metrics` (also HEAD) with `Content-Type: text/plain;
/// version=0.0.4; charset=utf-8`: the PrometheusMetrics' render() followed by
/// each renderer's text in the order they were added. Other paths: 404; other
/// methods: 405. Every response closes its connection. Threads: one accepting
/// plus `threads` answering, started by start() and joined by stop() or the
/// destructor, which do not wait for slow clients (their sockets are shut
/// down).
class MetricsServer {
 public:
  /// Binds and listens on `config.address`, then serves until stopped.
  /// `metrics` may be null (only the renderers are served). Errors:
  /// InvalidArgument for a bad config or an address that does not parse or
  /// resolve (naming it), Io with the system's reason when the address cannot
  /// be bound (e.g. "Address already in use").
  [[nodiscard]] static Result<std::unique_ptr<MetricsServer>> start(MetricsServerConfig config,
                                                                    std::shared_ptr<const PrometheusMetrics> metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// The port bound (the one picked when the address asked for port 0).
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// The address bound, as "HOST:PORT" ("[::1]:PORT" for IPv6).
  [[nodiscard]] std::string address() const;

  /// Adds a renderer; the returned id removes it. Thread-safe.
  std::uint64_t add_renderer(MetricsRenderer renderer);
  /// Removes a renderer; once this returns it is not called again (a render
  /// in progress is waited for). Thread-safe.
  void remove_renderer(std::uint64_t id);

  /// Connections refused because `max_connections` were open.
  [[nodiscard]] std::uint64_t connections_refused() const noexcept;

  /// Stops accepting, shuts down open connections and joins the threads.
  /// Idempotent; also done by the destructor. Must not be called from a renderer.
  void stop() noexcept;

  struct State;

 private:
  explicit MetricsServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace wasmplug
