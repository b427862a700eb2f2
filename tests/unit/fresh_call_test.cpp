// Fresh isolation: alloc → write → hook → read on a new instance per call.
#include <gtest/gtest.h>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

class FreshCall : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> rt_ = make_runtime();
};

TEST_F(FreshCall, TransformEchoes) {
  auto echo = load_guest(*rt_, "echo");
  auto out = rt_->call(*echo, Hook::Transform, bytes(R"({"a":1})"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->kind, Output::Kind::Bytes);
  EXPECT_EQ(out->text(), R"({"a":1})");
}

TEST_F(FreshCall, LargeInputGrowsGuestMemory) {
  auto echo = load_guest(*rt_, "echo");
  std::string big(300'000, 'x');  // > 4 pages: the guest allocator grows memory
  auto out = rt_->call(*echo, Hook::Transform, bytes(big));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), big);
}

TEST_F(FreshCall, FilterKeepsAndDrops) {
  auto echo = load_guest(*rt_, "echo");
  EXPECT_EQ(rt_->call(*echo, Hook::Filter, bytes("keep me"))->kind, Output::Kind::Keep);
  EXPECT_EQ(rt_->call(*echo, Hook::Filter, bytes("# drop me"))->kind, Output::Kind::Drop);
}

TEST_F(FreshCall, EmptyInputIsPassedAsNullPointer) {
  auto echo = load_guest(*rt_, "echo");
  auto out = rt_->call(*echo, Hook::Transform, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->kind, Output::Kind::Drop);  // echo returns (0, 0) for (0, 0)
}

TEST_F(FreshCall, NoStateCarriesOver) {
  auto counter = load_guest(*rt_, "counter");
  for (int i = 0; i < 5; ++i) {
    auto out = rt_->call(*counter, Hook::Transform, bytes("x"));
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    ASSERT_EQ(out->bytes.size(), 4u);
    EXPECT_EQ(out->bytes[0], 1) << "call " << i << " saw state from an earlier call";
  }
}

TEST_F(FreshCall, InstancesAreReturnedToThePool) {
  auto echo = load_guest(*rt_, "echo");
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(rt_->call(*echo, Hook::Transform, bytes("abc")).ok());
    // Torn down on the calling thread: the slot is free when the call returns.
    EXPECT_EQ(rt_->live_instances(), 0u) << "call " << i;
  }
}

TEST_F(FreshCall, HookNotExported) {
  auto counter = load_guest(*rt_, "counter");
  auto out = rt_->call(*counter, Hook::Filter, bytes("x"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(out.error().hook, "filter");
}

TEST_F(FreshCall, InputLimit) {
  LoadOptions options;
  options.limits.max_input_bytes = 8;
  auto echo = load_guest(*rt_, "echo", options);
  auto out = rt_->call(*echo, Hook::Transform, bytes("123456789"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(out.error().phase, Phase::Write);
  EXPECT_TRUE(rt_->call(*echo, Hook::Transform, bytes("12345678")).ok());
}

TEST_F(FreshCall, CGuestTransformAndFilter) {
  auto upper = load_guest(*rt_, "upper");
  ASSERT_TRUE(upper);
  auto out = rt_->call(*upper, Hook::Transform, bytes("hello, World"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "HELLO, WORLD");
  auto empty = rt_->call(*upper, Hook::Transform, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->kind, Output::Kind::Bytes);  // empty output, not a drop
  EXPECT_TRUE(empty->bytes.empty());
  EXPECT_EQ(rt_->call(*upper, Hook::Filter, bytes("x"))->kind, Output::Kind::Keep);
  EXPECT_EQ(rt_->call(*upper, Hook::Filter, {})->kind, Output::Kind::Drop);
}

TEST_F(FreshCall, InitReceivesConfig) {
  LoadOptions options;
  options.config = {'d', 'r', 'o', 'p', '-', 'e', 'm', 'p', 't', 'y'};
  auto upper = load_guest(*rt_, "upper", options);
  EXPECT_EQ(rt_->call(*upper, Hook::Transform, {})->kind, Output::Kind::Drop);

  LoadOptions ok_config;
  ok_config.config = {'o', 'k'};
  auto init = load_guest(*rt_, "init_config", ok_config);
  auto out = rt_->call(*init, Hook::Transform, bytes("ignored"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "ok");
}

TEST_F(FreshCall, InitRejectingConfigFailsTheCall) {
  LoadOptions options;
  options.config = {'b', 'a', 'd'};
  auto init = load_guest(*rt_, "init_config", options);
  auto out = rt_->call(*init, Hook::Transform, bytes("x"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Init);
  EXPECT_NE(out.error().message.find("returned 3"), std::string::npos) << out.error().message;
}

TEST_F(FreshCall, ExampleRedactPlugin) {
  auto redact = rt_->load_file(example_path("redact"), named("redact"));
  ASSERT_TRUE(redact.ok()) << redact.error().to_string();
  auto out = rt_->call(**redact, Hook::Transform,
                       bytes(R"({"email":"ann.lee@example.com","card":"4111 1111 1111 1111","n":"12"})"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), R"({"email":"[email]","card":"************1111","n":"12"})");
}

}  // namespace
}  // namespace wasmplug::test
