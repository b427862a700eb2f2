// --metrics-addr: a Prometheus /metrics endpoint for the length of a command.
// Shared by `run`, `bench` and `pipeline run`: the option, and starting the
// server for it.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "wasmplug/metrics.hpp"
#include "wasmplug/metrics_server.hpp"

namespace wasmplug::cli {

/// Adds --metrics-addr HOST:PORT to `cmd`, stored in `address` (empty: off).
void add_metrics_option(CLI::App& cmd, std::string& address);

/// What a command needs for --metrics-addr: the sink for its RuntimeConfig
/// and the server serving it. Both null without the option (no sink: the
/// calls record nothing), so a command can pass `metrics` on unconditionally.
struct MetricsEndpoint {
  std::shared_ptr<PrometheusMetrics> metrics;  ///< null without --metrics-addr
  std::unique_ptr<MetricsServer> server;       ///< null without --metrics-addr
};

/// Starts serving `address` (nothing when empty). On failure prints one line
/// naming the address and the reason and returns nullopt (exit status 2).
/// When port 0 was asked, prints the address bound to stderr:
/// "wasmplug: serving metrics on http://127.0.0.1:PORT/metrics".
[[nodiscard]] std::optional<MetricsEndpoint> start_metrics_endpoint(const std::string& address);

}  // namespace wasmplug::cli
