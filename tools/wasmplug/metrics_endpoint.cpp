#include "metrics_endpoint.hpp"

#include "loader.hpp"

namespace wasmplug::cli {

void add_metrics_option(CLI::App& cmd, std::string& address) {
  cmd.add_option("--metrics-addr", address,
                 "Serve Prometheus metrics at http://HOST:PORT/metrics while running (e.g. 127.0.0.1:9464; port 0 "
                 "picks a free one and prints it)")
      ->default_str("");
}

std::optional<MetricsEndpoint> start_metrics_endpoint(const std::string& address) {
  MetricsEndpoint endpoint;
  if (address.empty()) {
    return endpoint;  // no sink either: a run without the flag records nothing
  }
  endpoint.metrics = std::make_shared<PrometheusMetrics>();
  MetricsServerConfig config;
  config.address = address;
  auto server = MetricsServer::start(config, endpoint.metrics);
  if (!server) {
    complain("--metrics-addr: " + server.error().message);
    return std::nullopt;
  }
  endpoint.server = std::move(server).value();
  if (address.ends_with(":0")) {
    std::fprintf(stderr, "wasmplug: serving metrics on http://%s/metrics\n", endpoint.server->address().c_str());
    std::fflush(stderr);
  }
  return endpoint;
}

}  // namespace wasmplug::cli
