// The rustcdc transform profile: plugins written to the rustcdc WASM
// Transform SDK contract, fresh and pooled (one instance per worker).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

LoadOptions rustcdc(std::string name, std::string config = "", Isolation isolation = Isolation::Fresh) {
  LoadOptions options;
  options.name = std::move(name);
  options.abi = AbiProfile::Rustcdc;
  options.config.assign(config.begin(), config.end());
  options.isolation = isolation;
  return options;
}

class Rustcdc : public ::testing::Test {
 protected:
  LogCapture logs_;
  std::unique_ptr<Runtime> rt_ = make_runtime(logs_.config());
};

TEST_F(Rustcdc, TransformFilterAndFailure) {
  auto p = load_guest(*rt_, "rustcdc_tag", rustcdc("tagger", "orders"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->has_hook(Hook::Transform));
  auto out = rt_->call(*p, Hook::Transform, bytes(R"({"op":"c","after":{"id":1}})"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), R"({"op":"c","after":{"id":1},"tagged":"orders"})");

  auto filtered = rt_->call(*p, Hook::Transform, bytes(R"({"op":"d","before":{"id":1}})"));
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(filtered->kind, Output::Kind::Drop);  // -1

  auto failed = rt_->call(*p, Hook::Transform, bytes(R"({"op":"u","note":"poison"})"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::GuestError);  // < -1
  EXPECT_NE(failed.error().message.find("transform failed (returned -2)"), std::string::npos);

  auto garbled = rt_->call(*p, Hook::Transform, bytes(R"({"note":"garble"})"));
  ASSERT_FALSE(garbled.ok());
  EXPECT_EQ(garbled.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(garbled.error().phase, Phase::Read);
  EXPECT_NE(garbled.error().message.find("not a valid JSON event"), std::string::npos);

  auto not_json = rt_->call(*p, Hook::Transform, bytes("op=c"));
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(not_json.error().message.find("input event is not valid JSON"), std::string::npos);
}

TEST_F(Rustcdc, InitConfigLogsAndMetrics) {
  auto p = load_guest(*rt_, "rustcdc_tag", rustcdc("tagger"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rt_->call(*p, Hook::Transform, bytes(R"({"op":"c"})")).ok());
  }
  EXPECT_EQ(rt_->call(*p, Hook::Transform, bytes(R"({"op":"c"})"))->text(), R"({"op":"c","tagged":"rustcdc"})");
  EXPECT_EQ(p->guest_metrics().at("events.seen"), 4);
  ASSERT_TRUE(rt_->quiesce());  // log records reach the sink on the delivery thread
  auto logs = logs_.messages();
  EXPECT_EQ(std::count(logs.begin(), logs.end(), "init"), 4);  // fresh: init per call

  auto rejecting = load_guest(*rt_, "rustcdc_tag", rustcdc("tagger", "reject"));
  auto ready = rt_->prepare(*rejecting);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(ready.error().phase, Phase::Init);
  EXPECT_NE(ready.error().message.find("init returned 1"), std::string::npos);
}

TEST_F(Rustcdc, ContractViolations) {
  LoadOptions options = rustcdc("hostile");
  options.limits.deadline = std::chrono::milliseconds(20);
  auto p = load_guest(*rt_, "rustcdc_hostile", options);
  struct Case {
    const char* input;
    ErrorKind kind;
    Phase phase;
    const char* message;
  } cases[] = {
      {R"("F")", ErrorKind::GuestError, Phase::Call, "transform failed (returned -7)"},
      {R"("O")", ErrorKind::AbiViolation, Phase::Read, "transform returned an output range [65000, 65000+4096)"},
      {R"("M")", ErrorKind::AbiViolation, Phase::Read, "output_len returned -1"},
      {R"("N")", ErrorKind::AbiViolation, Phase::Call, "get_metric: the metric name at 65523 is not NUL-terminated"},
      {R"("L")", ErrorKind::Timeout, Phase::Call, "deadline of 20 ms"},
  };
  for (const Case& c : cases) {
    auto out = rt_->call(*p, Hook::Transform, bytes(c.input));
    ASSERT_FALSE(out.ok()) << c.input;
    EXPECT_EQ(out.error().kind, c.kind) << out.error().to_string();
    EXPECT_EQ(out.error().phase, c.phase) << out.error().to_string();
    EXPECT_NE(out.error().message.find(c.message), std::string::npos) << out.error().to_string();
    auto good = rt_->call(*p, Hook::Transform, bytes(R"("ok")"));
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_EQ(good->text(), R"("ok")");
  }
}

// Was +3.1 GB: 20,000 new metric names per call, every call OK.
TEST_F(Rustcdc, MetricNamesAreBounded) {
  LoadOptions options = rustcdc("flood", "", Isolation::Warm);
  options.pool.max_instances = 1;
  options.limits.deadline = std::chrono::milliseconds(10'000);  // 20,000 host calls, slow under ASan
  auto p = load_guest(*rt_, "rustcdc_metric_flood", options);
  ASSERT_TRUE(p);
  const std::uint64_t before = rss_bytes();
  for (int i = 0; i < 50; ++i) {
    auto out = rt_->call(*p, Hook::Transform, bytes(R"("R")"));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::LimitExceeded) << out.error().to_string();
    EXPECT_EQ(out.error().phase, Phase::Call);
    EXPECT_NE(out.error().message.find("record_metric: a new metric would exceed Limits::max_guest_metrics (1024 names)"),
              std::string::npos)
        << out.error().to_string();
    auto good = rt_->call(*p, Hook::Transform, bytes(R"("ok")"));
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_EQ(good->text(), R"("ok")");
  }
  const std::uint64_t growth = rss_bytes() - std::min(before, rss_bytes());
  EXPECT_EQ(p->guest_metrics().size(), 1024u);
  EXPECT_LT(growth, std::uint64_t{32} << 20) << growth;
  // Reading unknown names creates nothing.
  auto reads = rt_->call(*p, Hook::Transform, bytes(R"("G")"));
  ASSERT_TRUE(reads.ok()) << reads.error().to_string();
  EXPECT_EQ(p->guest_metrics().size(), 1024u);
}

TEST_F(Rustcdc, MetricNameBytesAreBounded) {
  LoadOptions options = rustcdc("flood", "", Isolation::Warm);
  options.pool.max_instances = 1;
  options.limits.max_guest_metric_name_bytes = 1000;  // 45 names of 22 bytes
  auto p = load_guest(*rt_, "rustcdc_metric_flood", options);
  ASSERT_TRUE(p);
  auto out = rt_->call(*p, Hook::Transform, bytes(R"("R")"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_NE(out.error().message.find("Limits::max_guest_metric_name_bytes (1000 bytes of names)"), std::string::npos)
      << out.error().to_string();
  EXPECT_EQ(p->guest_metrics().size(), 45u);
  ASSERT_TRUE(rt_->call(*p, Hook::Transform, bytes(R"("ok")")).ok());

  LoadOptions bad = rustcdc("bad");
  bad.limits.max_guest_metrics = 2'000'000;
  auto rejected = rt_->load(guest_bytes("rustcdc_metric_flood"), bad);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(rejected.error().message.find("Limits::max_guest_metrics"), std::string::npos);
  bad = rustcdc("bad");
  bad.limits.max_guest_metric_name_bytes = 1u << 30;
  rejected = rt_->load(guest_bytes("rustcdc_metric_flood"), bad);
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.error().message.find("Limits::max_guest_metric_name_bytes"), std::string::npos);
}

TEST_F(Rustcdc, AdmissionAllowsOnlyTheEnvImports) {
  auto p = rt_->load(guest_bytes("rustcdc_forbidden"), rustcdc("forbidden"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::Rejected);
  // WASI is off unless the plugin is loaded with LoadOptions::wasi.
  EXPECT_NE(p.error().message.find("imports WASI functions (fd_write) but the WASI capability set is off for this plugin"), std::string::npos)
      << p.error().message;
  EXPECT_NE(p.error().message.find("missing required export output_len () -> (i32)"), std::string::npos);
}

// The seed's pool: compile once, one instance per worker, each worker
// transforming in parallel; metrics from all instances add up.
TEST_F(Rustcdc, PoolOfInstancesAcrossThreads) {
  LoadOptions options = rustcdc("pooled", "pool", Isolation::Warm);
  options.pool.max_instances = 4;
  options.pool.acquire_timeout = std::chrono::milliseconds(1000);
  auto p = load_guest(*rt_, "rustcdc_tag", options);
  constexpr int kThreads = 4;
  constexpr int kEvents = 250;
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kEvents; ++i) {
        std::string event = R"({"op":"c","worker":)" + std::to_string(t) + R"(,"seq":)" + std::to_string(i) + "}";
        auto out = rt_->call(*p, Hook::Transform, bytes(event));
        std::string expected = event.substr(0, event.size() - 1) + R"(,"tagged":"pool"})";
        if (!out.ok() || out->text() != expected) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(p->guest_metrics().at("events.seen"), kThreads * kEvents);
  EXPECT_LE(p->pool_stats().created, 4u);
  ASSERT_TRUE(rt_->quiesce());  // log records reach the sink on the delivery thread
  auto logs = logs_.messages();
  EXPECT_EQ(std::count(logs.begin(), logs.end(), "init"), static_cast<long>(p->pool_stats().created));
}

}  // namespace
}  // namespace wasmplug::test
