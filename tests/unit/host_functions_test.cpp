// The core host functions: log reaches the sink with plugin and level, is
// capped, and bad arguments fail the call with AbiViolation.
#include <gtest/gtest.h>

#include <mutex>

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
  ASSERT_EQ(captured.lines.size(), 1u);
  EXPECT_EQ(std::get<2>(captured.lines[0]), "01234567... [truncated 8 bytes]");
}

TEST(HostFunctions, CGuestLogsThroughTheSdk) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto upper = load_guest(*rt, "upper");
  ASSERT_TRUE(rt->call(*upper, Hook::Transform, bytes("abc")).ok());
  ASSERT_EQ(captured.lines.size(), 1u);
  EXPECT_EQ(std::get<1>(captured.lines[0]), LogLevel::Debug);
  EXPECT_EQ(std::get<2>(captured.lines[0]), "upper called");
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

}  // namespace
}  // namespace wasmplug::test
