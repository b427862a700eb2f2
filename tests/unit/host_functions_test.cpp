// The core host functions: log reaches the sink with plugin and level, is
// capped, and bad arguments fail the call with AbiViolation.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

struct Captured {
  std::mutex mutex;
  std::vector<std::tuple<std::string, LogLevel, std::string>> lines;
};

std::unique_ptr<Runtime> capturing_runtime(Captured& captured, std::size_t max_message = 4096) {
  RuntimeConfig config;
  config.max_log_message_bytes = max_message;
  config.log_sink = [&captured](const LogRecord& r) {
    std::lock_guard lock(captured.mutex);
    captured.lines.emplace_back(std::string(r.plugin), r.level, std::string(r.message));
  };
  return make_runtime(config);
}

TEST(HostFunctions, LogReachesTheSink) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto echo = load_guest(*rt, "echo", named("observer"));
  auto out = rt->call(*echo, Hook::Observe, bytes("seen it"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->kind, Output::Kind::Done);
  ASSERT_TRUE(rt->quiesce());  // records reach the sink on the delivery thread
  ASSERT_EQ(captured.lines.size(), 1u);
  EXPECT_EQ(std::get<0>(captured.lines[0]), "observer");
  EXPECT_EQ(std::get<1>(captured.lines[0]), LogLevel::Info);
  EXPECT_EQ(std::get<2>(captured.lines[0]), "seen it");
}

TEST(HostFunctions, LongMessagesAreCutAndMarked) {
  Captured captured;
  auto rt = capturing_runtime(captured, 8);
  auto echo = load_guest(*rt, "echo");
  ASSERT_TRUE(rt->call(*echo, Hook::Observe, bytes("0123456789abcdef")).ok());
  ASSERT_TRUE(rt->quiesce());
  ASSERT_EQ(captured.lines.size(), 1u);
  EXPECT_EQ(std::get<2>(captured.lines[0]), "01234567... [truncated 8 bytes]");
}

TEST(HostFunctions, CGuestLogsThroughTheSdk) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto upper = load_guest(*rt, "upper");
  ASSERT_TRUE(rt->call(*upper, Hook::Transform, bytes("abc")).ok());
  ASSERT_TRUE(rt->quiesce());
  ASSERT_EQ(captured.lines.size(), 1u);
  EXPECT_EQ(std::get<1>(captured.lines[0]), LogLevel::Debug);
  EXPECT_EQ(std::get<2>(captured.lines[0]), "upper called");
}

// RuntimeConfig::min_log_level: the C guest's debug line is dropped at Info,
// an Info line still arrives, a bad range still fails the call, and the
// same runtime then serves a good call.
TEST(HostFunctions, LinesBelowMinLogLevelAreDropped) {
  Captured captured;
  RuntimeConfig config;
  config.min_log_level = LogLevel::Info;
  config.log_sink = [&captured](const LogRecord& r) {
    std::lock_guard lock(captured.mutex);
    captured.lines.emplace_back(std::string(r.plugin), r.level, std::string(r.message));
  };
  auto rt = make_runtime(config);
  auto upper = load_guest(*rt, "upper");
  ASSERT_TRUE(rt->call(*upper, Hook::Transform, bytes("abc")).ok());
  auto echo = load_guest(*rt, "echo", named("observer"));
  ASSERT_TRUE(rt->call(*echo, Hook::Observe, bytes("seen it")).ok());
  ASSERT_TRUE(rt->quiesce());
  {
    std::lock_guard lock(captured.mutex);
    ASSERT_EQ(captured.lines.size(), 1u);
    EXPECT_EQ(std::get<1>(captured.lines[0]), LogLevel::Info);
    EXPECT_EQ(std::get<2>(captured.lines[0]), "seen it");
  }
  EXPECT_TRUE(rt->call(*upper, Hook::Transform, bytes("abc")).ok());
}

// A line below min_log_level is not delivered, but its range is still
// checked: an out-of-bounds message fails the call as it would otherwise.
TEST(HostFunctions, DroppedLevelsAreStillBoundsChecked) {
  RuntimeConfig config;
  config.min_log_level = LogLevel::Error;  // the hostile guest logs at Info
  config.log_sink = [](const LogRecord&) {};
  auto rt = make_runtime(config);
  auto hostile = load_guest(*rt, "hostile");
  auto bad = rt->call(*hostile, Hook::Transform, bytes("B"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::AbiViolation);
  EXPECT_EQ(bad.error().phase, Phase::Call);
  EXPECT_NE(bad.error().message.find("log: message range [65000, 65000+1000)"), std::string::npos)
      << bad.error().message;
  auto good = rt->call(*hostile, Hook::Transform, bytes("ok"));
  EXPECT_TRUE(good.ok()) << good.error().to_string();
}

TEST(HostFunctions, FailCarriesTheGuestMessage) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto upper = load_guest(*rt, "upper");
  auto out = rt->call(*upper, Hook::Transform, bytes("fail"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_EQ(out.error().message, "asked to fail");
  EXPECT_TRUE(rt->call(*upper, Hook::Transform, bytes("fine")).ok());
}

std::vector<std::uint8_t> flood(std::uint32_t count, std::uint32_t line) {
  std::vector<std::uint8_t> input(8);
  std::memcpy(input.data(), &count, 4);
  std::memcpy(input.data() + 4, &line, 4);
  return input;
}

// 1 GiB of log lines in one call (16,384 lines of 64 KiB): at most the
// call's budget reaches the sink, then one marker with the dropped count;
// host memory stays flat. Before: every line (cut to 4 KiB) reached the sink.
TEST(HostFunctions, LogFloodIsCutToTheCallsBudget) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  const RuntimeConfig& config = rt->config();
  auto noisy = load_guest(*rt, "noisy");
  const std::size_t rss_before = rss_bytes();
  auto out = rt->call(*noisy, Hook::Observe, flood(16384, 65536));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_TRUE(rt->quiesce());
  EXPECT_LT(rss_bytes(), rss_before + (32u << 20));
  std::lock_guard lock(captured.mutex);
  ASSERT_GE(captured.lines.size(), 2u);
  ASSERT_LE(captured.lines.size(), config.max_log_lines_per_call + 1);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i + 1 < captured.lines.size(); ++i) {
    const std::string& message = std::get<2>(captured.lines[i]);
    EXPECT_EQ(message.rfind("aaaa", 0), 0u);
    bytes += std::min(message.size(), config.max_log_message_bytes);
  }
  EXPECT_LE(bytes, config.max_log_bytes_per_call);
  const std::size_t kept = captured.lines.size() - 1;
  const auto& marker = captured.lines.back();
  EXPECT_EQ(std::get<0>(marker), "noisy");
  EXPECT_EQ(std::get<1>(marker), LogLevel::Warn);
  EXPECT_EQ(std::get<2>(marker), "[" + std::to_string(16384 - kept) + " lines / " +
                                     std::to_string((16384 - kept) * 65536) +
                                     " bytes over this call's log budget dropped]");
}

TEST(HostFunctions, LogBudgetIsPerCall) {
  Captured captured;
  RuntimeConfig config;
  config.max_log_lines_per_call = 3;
  config.log_sink = [&captured](const LogRecord& r) {
    std::lock_guard lock(captured.mutex);
    captured.lines.emplace_back(std::string(r.plugin), r.level, std::string(r.message));
  };
  auto rt = make_runtime(config);
  LoadOptions options = named("noisy");
  options.isolation = Isolation::Warm;
  auto noisy = load_guest(*rt, "noisy", options);
  ASSERT_TRUE(rt->call(*noisy, Hook::Observe, flood(5, 4)).ok());
  ASSERT_TRUE(rt->call(*noisy, Hook::Observe, flood(2, 4)).ok());
  ASSERT_TRUE(rt->quiesce());
  std::vector<std::string> messages;
  for (const auto& line : captured.lines) {
    messages.push_back(std::get<2>(line));
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"aaaa", "aaaa", "aaaa",
                                                "[2 lines / 8 bytes over this call's log budget dropped]",
                                                "aaaa", "aaaa"}));
}

// A sink that takes 1 s per record does not slow the guest: a call with a
// 50 ms deadline that logs 100 lines succeeds at once (before: the sink ran
// inside the call, which took 100 s or timed out).
TEST(HostFunctions, SlowSinkDoesNotStallCalls) {
  std::atomic<int> delivered{0};
  std::atomic<bool> slow{true};
  RuntimeConfig config;
  config.log_queue_records = 16;
  config.log_sink = [&](const LogRecord&) {
    if (slow.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    delivered.fetch_add(1);
  };
  auto rt = make_runtime(config);
  LoadOptions options = named("noisy");
  options.limits.deadline = std::chrono::milliseconds(50);
  auto noisy = load_guest(*rt, "noisy", options);
  const auto start = std::chrono::steady_clock::now();
  auto out = rt->call(*noisy, Hook::Observe, flood(100, 16));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_LT(took, std::chrono::milliseconds(500));
  EXPECT_LE(delivered.load(), 1);
  // quiesce is bounded: the queue holds 16 records of 1 s each.
  EXPECT_FALSE(rt->quiesce(std::chrono::milliseconds(100)));
  slow = false;  // the Runtime delivers what is queued before it goes
}

// A full queue drops records and says so in a later record.
TEST(HostFunctions, FullLogQueueReportsDrops) {
  Captured captured;
  std::mutex gate;
  std::unique_lock hold(gate);  // the sink blocks until released
  RuntimeConfig config;
  config.log_queue_records = 4;
  config.log_sink = [&](const LogRecord& r) {
    std::lock_guard wait(gate);
    std::lock_guard lock(captured.mutex);
    captured.lines.emplace_back(std::string(r.plugin), r.level, std::string(r.message));
  };
  auto rt = make_runtime(config);
  auto noisy = load_guest(*rt, "noisy");
  ASSERT_TRUE(rt->call(*noisy, Hook::Observe, flood(20, 4)).ok());
  hold.unlock();
  ASSERT_TRUE(rt->quiesce());
  std::lock_guard lock(captured.mutex);
  ASSERT_GE(captured.lines.size(), 5u);
  ASSERT_LE(captured.lines.size(), 6u);  // 4 queued (+1 taken by the sink) + the report
  const auto& report = captured.lines.back();
  EXPECT_EQ(std::get<0>(report), "wasmplug");
  EXPECT_EQ(std::get<1>(report), LogLevel::Warn);
  const std::size_t delivered = captured.lines.size() - 1;
  EXPECT_EQ(std::get<2>(report), "[" + std::to_string(20 - delivered) +
                                     " log records dropped: the log queue (4 records) was full]");
}

// fail and log messages: control bytes escaped, truncation marked.
TEST(HostFunctions, GuestTextIsEscapedAndCutVisibly) {
  Captured captured;
  auto rt = capturing_runtime(captured, 8);
  auto noisy = load_guest(*rt, "noisy");
  const std::string with_nul("bad\0news\n", 9);
  auto out = rt->call(*noisy, Hook::Transform, bytes(with_nul));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_EQ(out.error().message, "bad\\x00news\\x0a");
  const std::string long_text(10'000, 'z');
  out = rt->call(*noisy, Hook::Transform, bytes(long_text));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().message, std::string(4096, 'z') + "... [truncated 5904 bytes]");
  // The same plugin then serves a good call.
  ASSERT_TRUE(rt->call(*noisy, Hook::Observe, flood(1, 4)).ok());

  auto echo = load_guest(*rt, "echo");
  ASSERT_TRUE(rt->call(*echo, Hook::Observe, bytes(std::string("a\0b\x1b[2J", 7))).ok());
  ASSERT_TRUE(rt->quiesce());
  std::lock_guard lock(captured.mutex);
  ASSERT_EQ(captured.lines.size(), 2u);
  EXPECT_EQ(std::get<2>(captured.lines[1]), "a\\x00b\\x1b[2J");
}

}  // namespace
}  // namespace wasmplug::test
