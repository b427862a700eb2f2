// Warm isolation: pooled instances keep state, are discarded after failures,
// recycled, bounded, and shut down with wp_shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

class WarmPool : public ::testing::Test {
 protected:
  LogCapture logs_;
  std::unique_ptr<Runtime> rt_ = make_runtime(logs_.config());
  std::size_t shutdowns() {
    auto logs = logs_.messages();
    return static_cast<std::size_t>(std::count(logs.begin(), logs.end(), "shutdown"));
  }
};

TEST_F(WarmPool, StatepersistsAcrossCalls) {
  auto p = load_guest(*rt_, "stateful", warm());
  for (std::uint32_t i = 1; i <= 5; ++i) {
    EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), i);
  }
  PoolStats s = p->pool_stats();
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ(s.idle, 1u);
  EXPECT_EQ(s.busy, 0u);
  EXPECT_EQ(rt_->live_instances(), 1u);
}

TEST_F(WarmPool, TrappedInstanceIsNeverReused) {
  auto p = load_guest(*rt_, "stateful", warm());
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 2u);
  auto bad = rt_->call(*p, Hook::Transform, bytes("U"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::Trap);
  // A new instance: the count starts again.
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(p->pool_stats().discarded, 1u);
  EXPECT_EQ(p->pool_stats().created, 2u);
}

TEST_F(WarmPool, TimedOutInstanceIsNeverReused) {
  LoadOptions options = warm();
  options.limits.deadline = std::chrono::milliseconds(30);
  auto p = load_guest(*rt_, "stateful", options);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
  auto bad = rt_->call(*p, Hook::Transform, bytes("L"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
}

TEST_F(WarmPool, InputRejectedBeforeTheGuestKeepsTheInstance) {
  LoadOptions options = warm();
  options.limits.max_input_bytes = 4;
  auto p = load_guest(*rt_, "stateful", options);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(rt_->call(*p, Hook::Transform, bytes("too long")).error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 2u);
}

TEST_F(WarmPool, InitFailureRejectsTheInstance) {
  LoadOptions options = warm();
  options.config = {'n', 'o'};
  auto p = load_guest(*rt_, "init_config", options);
  auto out = rt_->call(*p, Hook::Transform, bytes("x"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Init);
  EXPECT_EQ(p->pool_stats().created, 0u);
  EXPECT_EQ(rt_->live_instances(), 0u);
}

TEST_F(WarmPool, InitRunsOncePerInstance) {
  LoadOptions options = warm();
  options.config = {'o', 'k'};
  auto p = load_guest(*rt_, "init_config", options);
  for (int i = 0; i < 3; ++i) {
    auto out = rt_->call(*p, Hook::Transform, bytes("x"));
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(out->text(), "ok");
  }
  EXPECT_EQ(p->pool_stats().created, 1u);
}

TEST_F(WarmPool, RecycleAfterCalls) {
  LoadOptions options = warm();
  options.pool.recycle_after_calls = 2;
  auto p = load_guest(*rt_, "stateful", options);
  std::vector<std::uint32_t> seen;
  for (int i = 0; i < 5; ++i) {
    seen.push_back(count_of(rt_->call(*p, Hook::Transform, bytes("x"))));
  }
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{1, 2, 1, 2, 1}));
  EXPECT_EQ(p->pool_stats().retired, 2u);
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(shutdowns(), 2u) << "wp_shutdown runs for each retired instance";
}

TEST_F(WarmPool, RecycleWhenMemoryGrew) {
  LoadOptions options = warm();
  options.pool.recycle_memory_bytes = 2 * 65536;
  auto p = load_guest(*rt_, "stateful", options);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("M"))), 2u);  // grows to 5 pages
  EXPECT_EQ(count_of(rt_->call(*p, Hook::Transform, bytes("x"))), 1u);
  EXPECT_EQ(p->pool_stats().retired, 1u);
}

TEST_F(WarmPool, InstancesShutDownWhenThePluginGoes) {
  {
    auto p = load_guest(*rt_, "stateful", warm());
    ASSERT_TRUE(rt_->call(*p, Hook::Transform, bytes("x")).ok());
    EXPECT_EQ(rt_->live_instances(), 1u);
  }
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(rt_->live_instances(), 0u);
  EXPECT_EQ(shutdowns(), 1u);
}

// wp_shutdown runs on the retirer thread, never the caller's: with a guest
// whose wp_shutdown loops until its deadline, 20 recycled calls under a
// 100 ms deadline took 20 x ~200 ms before; now the calls do not wait.
TEST_F(WarmPool, RecyclingDoesNotWaitForWpShutdown) {
  LoadOptions options = warm();
  options.pool.recycle_after_calls = 1;
  options.limits.deadline = std::chrono::milliseconds(100);
  auto p = load_guest(*rt_, "shutdown_loop", options);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    auto out = rt_->call(*p, Hook::Transform, bytes("x"));
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(out->text(), "x");
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "20 calls must not wait for 20 looping wp_shutdowns";
  EXPECT_EQ(p->pool_stats().retired, 20u);
  // Each wp_shutdown still runs, ends with Timeout after its deadline, and
  // its instance is freed.
  ASSERT_TRUE(rt_->quiesce(std::chrono::seconds(30)));
  EXPECT_EQ(rt_->live_instances(), 0u);
  auto logs = logs_.messages();
  EXPECT_EQ(std::count_if(logs.begin(), logs.end(),
                          [](const std::string& m) { return m.find("wp_shutdown failed: Timeout") == 0; }),
            20);
}

// Dropping a plugin with idle instances returns at once; their looping
// wp_shutdowns run (each under its deadline) on the retirer thread.
TEST_F(WarmPool, DroppingAPluginDoesNotWaitForWpShutdown) {
  LoadOptions options = warm(4);
  options.limits.deadline = std::chrono::milliseconds(500);
  auto p = load_guest(*rt_, "shutdown_loop", options);
  // Four concurrent calls that each spin a while leave four idle instances.
  for (int round = 0; round < 10 && p->pool_stats().idle < 4; ++round) {
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&] { EXPECT_TRUE(rt_->call(*p, Hook::Transform, bytes("S")).ok()); });
    }
    for (auto& t : callers) {
      t.join();
    }
  }
  ASSERT_EQ(p->pool_stats().idle, 4u);
  const auto start = std::chrono::steady_clock::now();
  p.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(500)) << "dropping must not wait for 4 x 500 ms of wp_shutdown";
  ASSERT_TRUE(rt_->quiesce(std::chrono::seconds(30)));
  EXPECT_EQ(rt_->live_instances(), 0u);
}

// The retirement queue is bounded: past it, instances go without their
// wp_shutdown, and the drop is logged with a count.
TEST(WarmPoolRetirement, FullQueueDropsWithoutWpShutdown) {
  LogCapture logs;
  RuntimeConfig config = logs.config();
  config.retire_queue_instances = 2;
  auto rt = make_runtime(config);
  LoadOptions options = warm();
  options.pool.recycle_after_calls = 1;
  options.limits.deadline = std::chrono::milliseconds(200);
  auto p = load_guest(*rt, "shutdown_loop", options);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(rt->call(*p, Hook::Transform, bytes("x")).ok());
    EXPECT_LE(rt->live_instances(), 3u) << "at most 2 wait for wp_shutdown (+1 running)";
  }
  ASSERT_TRUE(rt->quiesce(std::chrono::seconds(30)));
  EXPECT_EQ(rt->live_instances(), 0u);
  auto messages = logs.messages();
  const auto dropped = std::count_if(messages.begin(), messages.end(), [](const std::string& m) {
    return m.find("dropped without wp_shutdown: the retirement queue (2 instances) is full") != std::string::npos;
  });
  const auto timed_out = std::count_if(messages.begin(), messages.end(), [](const std::string& m) {
    return m.find("wp_shutdown failed: Timeout") == 0;
  });
  EXPECT_GE(dropped, 6);
  EXPECT_EQ(dropped + timed_out, 10);
}

TEST_F(WarmPool, SaturatedFailsAtOnceByDefault) {
  LoadOptions options = warm(1);
  options.limits.deadline = std::chrono::milliseconds(300);
  auto p = load_guest(*rt_, "stateful", options);
  std::thread busy([&] { (void)rt_->call(*p, Hook::Transform, bytes("L")); });
  while (p->pool_stats().busy == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto start = std::chrono::steady_clock::now();
  auto out = rt_->call(*p, Hook::Transform, bytes("x"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::PoolSaturated);
  busy.join();
  EXPECT_EQ(p->pool_stats().saturated, 1u);
}

TEST_F(WarmPool, SaturatedWaitsUpToTheTimeout) {
  LoadOptions options = warm(1);
  options.limits.deadline = std::chrono::milliseconds(200);
  options.pool.acquire_timeout = std::chrono::milliseconds(2000);
  auto p = load_guest(*rt_, "stateful", options);
  std::thread busy([&] { (void)rt_->call(*p, Hook::Transform, bytes("L")); });
  while (p->pool_stats().busy == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto start = std::chrono::steady_clock::now();
  auto out = rt_->call(*p, Hook::Transform, bytes("x"));  // waits for the looping call to time out
  auto waited = std::chrono::steady_clock::now() - start;
  busy.join();
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_GT(waited, std::chrono::milliseconds(50));
  EXPECT_LT(waited, std::chrono::milliseconds(2000));

  LoadOptions short_wait = warm(1);
  short_wait.limits.deadline = std::chrono::milliseconds(500);
  short_wait.pool.acquire_timeout = std::chrono::milliseconds(50);
  auto q = load_guest(*rt_, "stateful", short_wait);
  std::thread busy2([&] { (void)rt_->call(*q, Hook::Transform, bytes("L")); });
  while (q->pool_stats().busy == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  start = std::chrono::steady_clock::now();
  auto refused = rt_->call(*q, Hook::Transform, bytes("x"));
  waited = std::chrono::steady_clock::now() - start;
  busy2.join();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::PoolSaturated);
  EXPECT_GE(waited, std::chrono::milliseconds(50));
  EXPECT_LT(waited, std::chrono::milliseconds(450));
}

TEST_F(WarmPool, RuntimeWideSlotLimitBoundsAllPools) {
  RuntimeConfig config;
  config.max_instances = 2;
  config.log_sink = [](const LogRecord&) {};
  auto rt = make_runtime(config);
  auto a = load_guest(*rt, "stateful", warm(2));
  auto b = load_guest(*rt, "counter", warm(2));
  ASSERT_TRUE(rt->call(*a, Hook::Transform, bytes("x")).ok());
  ASSERT_TRUE(rt->call(*b, Hook::Transform, bytes("x")).ok());
  EXPECT_EQ(rt->live_instances(), 2u);
  // Both slots are held by idle warm instances: a fresh call has none left.
  auto fresh = load_guest(*rt, "echo");
  EXPECT_EQ(rt->call(*fresh, Hook::Transform, bytes("x")).error().kind, ErrorKind::PoolSaturated);
}

TEST_F(WarmPool, ThreadsShareThePool) {
  auto p = load_guest(*rt_, "upper", warm(2));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto out = rt_->call(*p, Hook::Transform, bytes("abc"));
        // With 4 threads on 2 instances and no wait, PoolSaturated is expected.
        if (out.ok() ? out->text() != "ABC" : out.error().kind != ErrorKind::PoolSaturated) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(p->pool_stats().created, 2u);
  EXPECT_EQ(p->pool_stats().busy, 0u);
}

TEST_F(WarmPool, BadPoolOptions) {
  LoadOptions options = warm(0);
  EXPECT_EQ(rt_->load(guest_bytes("stateful"), options).error().kind, ErrorKind::InvalidArgument);
  options = warm(100'000);
  EXPECT_EQ(rt_->load(guest_bytes("stateful"), options).error().kind, ErrorKind::InvalidArgument);
}

}  // namespace
}  // namespace wasmplug::test
