// PrometheusMetrics: what the runtime and registry report, rendered as text.
#include "wasmplug/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "guests.hpp"
#include "wasmplug/registry.hpp"

namespace wasmplug::test {
namespace {

bool has(const std::string& text, std::string_view line) { return text.find(line) != std::string::npos; }

TEST(Metrics, RuntimeAndRegistryEventsAreRendered) {
  auto metrics = std::make_shared<PrometheusMetrics>();
  RuntimeConfig config;
  config.metrics = metrics;
  auto rt = make_runtime(config);
  Registry registry(*rt);
  metrics->add_gauges([&registry] { return registry.pool_gauges(); });

  SlotOptions options;
  options.load.isolation = Isolation::Warm;
  ASSERT_TRUE(registry.register_plugin("stateful", Hook::Transform, guest_bytes("stateful"), options).ok());
  ASSERT_TRUE(registry.call("stateful", bytes("x")).ok());
  ASSERT_TRUE(registry.call("stateful", bytes("x")).ok());
  ASSERT_FALSE(registry.call("stateful", bytes("U")).ok());  // the instance is discarded
  ASSERT_TRUE(registry.call("stateful", bytes("x")).ok());   // a second one is made
  SlotOptions open;
  open.on_failure = FailurePolicy::FailOpen;
  ASSERT_TRUE(registry.register_plugin("open", Hook::Filter, guest_bytes("hostile"), open).ok());
  ASSERT_TRUE(registry.call("open", bytes("U"))->fallback);

  std::string text = metrics->render();
  EXPECT_TRUE(has(text, "# TYPE wasmplug_calls_total counter\n")) << text;
  EXPECT_TRUE(has(text, "wasmplug_calls_total{plugin=\"stateful\",hook=\"transform\"} 4\n")) << text;
  EXPECT_TRUE(has(text,
                  "wasmplug_call_failures_total{plugin=\"stateful\",hook=\"transform\",kind=\"Trap\",phase=\"call\"} 1\n"))
      << text;
  EXPECT_TRUE(has(text, "wasmplug_call_duration_seconds_count{plugin=\"stateful\",hook=\"transform\"} 4\n")) << text;
  EXPECT_TRUE(has(text, "wasmplug_call_duration_seconds_bucket{plugin=\"stateful\",hook=\"transform\",le=\"+Inf\"} 4\n"))
      << text;
  EXPECT_TRUE(has(text, "wasmplug_instantiations_total{plugin=\"stateful\"} 2\n")) << text;
  EXPECT_TRUE(has(text, "wasmplug_swaps_total{plugin=\"stateful\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "wasmplug_call_fallbacks_total{plugin=\"open\",hook=\"filter\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "wasmplug_pool_idle_instances{plugin=\"stateful\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "wasmplug_pool_busy_instances{plugin=\"stateful\"} 0\n")) << text;
}

TEST(Metrics, SeriesAreBoundedAndLabelsEscaped) {
  PrometheusMetrics metrics(2);
  Error error{ErrorKind::Timeout, Phase::Call, "", "", "late"};
  metrics.on_call({"a\"b", Hook::Filter, std::chrono::microseconds(3), nullptr});
  for (int i = 0; i < 10; ++i) {
    metrics.on_call({"p" + std::to_string(i), Hook::Transform, std::chrono::microseconds(3), &error});
  }
  std::string text = metrics.render();
  EXPECT_TRUE(has(text, "plugin=\"a\\\"b\"")) << text;
  EXPECT_TRUE(has(text, "plugin=\"_overflow\"")) << text;
  EXPECT_FALSE(has(text, "plugin=\"p9\"")) << text;
}

TEST(Metrics, ConcurrentRecording) {
  PrometheusMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10'000; ++i) {
        metrics.on_call({"plugin" + std::to_string(i % 3), static_cast<Hook>(t % 3), std::chrono::nanoseconds(i), nullptr});
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  std::string text = metrics.render();
  std::uint64_t total = 0;
  for (std::size_t pos = 0; (pos = text.find("wasmplug_calls_total{", pos)) != std::string::npos;) {
    pos = text.find("} ", pos) + 2;
    total += std::stoull(text.substr(pos, text.find('\n', pos) - pos));
  }
  EXPECT_EQ(total, 40'000u);
}

}  // namespace
}  // namespace wasmplug::test
