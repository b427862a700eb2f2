// Fresh isolation: alloc → write → hook → read on a new instance per call.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

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
  }
  // Finished instances are torn down on the reaper thread; quiesce() waits.
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(rt_->live_instances(), 0u);
}

TEST(FreshTeardown, InstancesWaitingForTheReaperNeverRefuseACall) {
  // One slot: every call after the first finds it held by the previous
  // call's instance unless that one was torn down already.
  RuntimeConfig config;
  config.max_instances = 1;
  auto rt = make_runtime(config);
  auto echo = load_guest(*rt, "echo");
  for (int i = 0; i < 200; ++i) {
    auto out = rt->call(*echo, Hook::Transform, bytes("abc"));
    ASSERT_TRUE(out.ok()) << "call " << i << ": " << out.error().to_string();
    ASSERT_LE(rt->live_instances(), 1u);
  }
  ASSERT_TRUE(rt->quiesce());
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(FreshTeardown, ManyThreadsOnFewSlotsLoseNoCall) {
  RuntimeConfig config;
  config.max_instances = 2;
  auto rt = make_runtime(config);
  auto echo = load_guest(*rt, "echo");
  std::atomic<int> failed{0};
  std::atomic<int> saturated{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto out = rt->call(*echo, Hook::Transform, bytes("abc"));
        if (!out) {
          ++failed;
          saturated += out.error().kind == ErrorKind::PoolSaturated ? 1 : 0;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  // Two callers, two slots: a slot is only ever held by a running call or
  // a finished one the caller can tear down itself.
  EXPECT_EQ(failed.load(), 0) << saturated.load() << " of them PoolSaturated";
  ASSERT_TRUE(rt->quiesce());
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(FreshTeardown, InstancesWaitingForTeardownStayBounded) {
  // Two threads making fresh calls as fast as they can, while the reaper
  // thread competes with them for the machine's cores: at most 64 finished
  // instances wait (a caller past that deletes its own), besides the two
  // in calls and the one a thread may be deleting.
  auto rt = make_runtime();
  auto echo = load_guest(*rt, "echo");
  std::atomic<bool> stop{false};
  std::atomic<std::uint32_t> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3000; ++i) {
        ASSERT_TRUE(rt->call(*echo, Hook::Transform, bytes("abc")).ok());
      }
    });
  }
  std::thread watcher([&] {
    while (!stop.load()) {
      std::uint32_t now = rt->live_instances();
      std::uint32_t seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
    }
  });
  for (auto& th : threads) {
    th.join();
  }
  stop = true;
  watcher.join();
  EXPECT_LE(most.load(), 64u + 2u + 1u);
  ASSERT_TRUE(rt->quiesce());
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(FreshTeardown, TheReaperTearsDownWithoutQuiesce) {
  auto rt = make_runtime();
  auto echo = load_guest(*rt, "echo");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(rt->call(*echo, Hook::Transform, bytes("abc")).ok());
  }
  // Fewer than a poll's worth: picked up by the reaper's polling or, once
  // it sleeps, at the epoch ticker's next tick (1 ms).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rt->live_instances() != 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(FreshTeardown, InlineTeardownFreesTheSlotBeforeTheCallReturns) {
  RuntimeConfig config;
  config.background_teardown = false;
  auto rt = make_runtime(config);
  auto echo = load_guest(*rt, "echo");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(rt->call(*echo, Hook::Transform, bytes("abc")).ok());
    EXPECT_EQ(rt->live_instances(), 0u) << "call " << i;
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
