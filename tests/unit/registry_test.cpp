// Registry: slots, hot-swap under load, rollback, canary, failure policy.
#include "wasmplug/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Runtime> rt_ = make_runtime();
  Registry registry_{*rt_};

  std::uint64_t reg(std::string_view slot, Hook kind, std::string_view stem, const SlotOptions& options = {}) {
    auto v = registry_.register_plugin(slot, kind, guest_bytes(stem), options);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
    return v.ok() ? *v : 0;
  }
  std::string call_text(std::string_view slot, std::string_view input) {
    auto out = registry_.call(slot, bytes(input));
    return out.ok() ? std::string(out->text()) : "error: " + out.error().to_string();
  }
};

TEST_F(RegistryTest, RegisterCallAndReplace) {
  std::uint64_t v1 = reg("shout", Hook::Transform, "echo");
  EXPECT_EQ(call_text("shout", "abc"), "abc");
  std::uint64_t v2 = reg("shout", Hook::Transform, "upper");
  EXPECT_GT(v2, v1);
  EXPECT_EQ(call_text("shout", "abc"), "ABC");
  auto info = registry_.info("shout");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->version, v2);
  EXPECT_EQ(info->previous_version, v1);
  EXPECT_EQ(registry_.current("shout")->name(), "shout");
}

TEST_F(RegistryTest, KindIsFixedAtFirstRegistration) {
  reg("f", Hook::Filter, "echo");
  auto switched = registry_.register_plugin("f", Hook::Transform, guest_bytes("echo"));
  ASSERT_FALSE(switched.ok());
  EXPECT_EQ(switched.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(switched.error().message.find("serves the filter hook"), std::string::npos);
}

TEST_F(RegistryTest, PluginWithoutTheSlotsHookIsRefused) {
  auto v = registry_.register_plugin("f", Hook::Filter, guest_bytes("counter"));
  ASSERT_FALSE(v.ok());
  // Refused by admission: the slot's kind is a required hook.
  EXPECT_EQ(v.error().kind, ErrorKind::Rejected) << v.error().to_string();
  EXPECT_EQ(v.error().phase, Phase::Admit);
  EXPECT_NE(v.error().message.find("missing export wp_filter"), std::string::npos) << v.error().message;
  EXPECT_FALSE(registry_.info("f"));
}

TEST_F(RegistryTest, IdenticalReRegisterIsANoOp) {
  std::uint64_t v1 = reg("s", Hook::Transform, "echo");
  std::uint64_t again = reg("s", Hook::Transform, "echo");
  EXPECT_EQ(again, v1);
  EXPECT_FALSE(registry_.info("s")->previous_version.has_value());
}

TEST_F(RegistryTest, Rollback) {
  std::uint64_t v1 = reg("s", Hook::Transform, "echo");
  std::uint64_t v2 = reg("s", Hook::Transform, "upper");
  auto back = registry_.rollback("s");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v1);
  EXPECT_EQ(call_text("s", "abc"), "abc");
  EXPECT_EQ(*registry_.rollback("s"), v2);  // and forward again
  EXPECT_EQ(registry_.rollback("nope").error().kind, ErrorKind::InvalidArgument);
  reg("single", Hook::Transform, "echo");
  EXPECT_EQ(registry_.rollback("single").error().kind, ErrorKind::InvalidArgument);
}

TEST_F(RegistryTest, FailingCanaryKeepsTheOldVersion) {
  std::uint64_t v1 = reg("s", Hook::Transform, "echo");
  SlotOptions bad_init;
  bad_init.canary = true;
  bad_init.load.config = {'b', 'a', 'd'};
  auto r = registry_.register_plugin("s", Hook::Transform, guest_bytes("init_config"), bad_init);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(r.error().phase, Phase::Init);
  EXPECT_EQ(registry_.info("s")->version, v1);
  EXPECT_EQ(call_text("s", "abc"), "abc");

  SlotOptions bad_probe;
  bad_probe.canary_probe = std::vector<std::uint8_t>{'U'};
  r = registry_.register_plugin("s", Hook::Transform, guest_bytes("hostile"), bad_probe);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Trap);
  EXPECT_NE(r.error().message.find("canary probe failed"), std::string::npos);
  EXPECT_EQ(registry_.info("s")->version, v1);

  SlotOptions good_probe;
  good_probe.canary_probe = std::vector<std::uint8_t>{'o', 'k'};
  EXPECT_TRUE(registry_.register_plugin("s", Hook::Transform, guest_bytes("hostile"), good_probe).ok());
}

TEST_F(RegistryTest, FailClosedReturnsTheError) {
  reg("s", Hook::Transform, "hostile");
  auto out = registry_.call("s", bytes("U"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Trap);
  EXPECT_EQ(out.error().plugin, "s");
}

TEST_F(RegistryTest, FailOpenPassesTheInputThrough) {
  SlotOptions open;
  open.on_failure = FailurePolicy::FailOpen;
  reg("t", Hook::Transform, "hostile", open);
  auto out = registry_.call("t", bytes("Unreachable"));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->fallback);
  EXPECT_EQ(out->text(), "Unreachable");
  reg("f", Hook::Filter, "hostile", open);
  auto kept = registry_.call("f", bytes("U"));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->kind, Output::Kind::Keep);
  EXPECT_TRUE(kept->fallback);
  auto good = registry_.call("t", bytes("fine"));
  ASSERT_TRUE(good.ok());
  EXPECT_FALSE(good->fallback);
}

TEST_F(RegistryTest, ConsecutiveFailuresTripTheSlotUntilANewVersion) {
  SlotOptions closed;
  closed.trip_after = 3;
  reg("s", Hook::Transform, "hostile", closed);
  EXPECT_EQ(call_text("s", "ok"), "ok");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(registry_.call("s", bytes("U")).error().kind, ErrorKind::Trap);
  }
  EXPECT_EQ(call_text("s", "ok"), "ok");  // a success resets the count
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(registry_.call("s", bytes("U")).error().kind, ErrorKind::Trap);
  }
  EXPECT_TRUE(registry_.info("s")->tripped);
  auto tripped = registry_.call("s", bytes("ok"));
  ASSERT_FALSE(tripped.ok());
  EXPECT_EQ(tripped.error().kind, ErrorKind::Tripped);
  reg("s", Hook::Transform, "echo");
  EXPECT_FALSE(registry_.info("s")->tripped);
  EXPECT_EQ(call_text("s", "ok"), "ok");

  SlotOptions open;
  open.on_failure = FailurePolicy::FailOpen;
  open.trip_after = 1;
  reg("o", Hook::Transform, "hostile", open);
  EXPECT_TRUE(registry_.call("o", bytes("U"))->fallback);
  auto bypass = registry_.call("o", bytes("ok"));  // tripped: the plugin is not called
  ASSERT_TRUE(bypass.ok());
  EXPECT_TRUE(bypass->fallback);
}

TEST_F(RegistryTest, RemoveAndUnknownSlots) {
  reg("s", Hook::Transform, "echo");
  EXPECT_TRUE(registry_.remove("s").ok());
  EXPECT_EQ(registry_.call("s", bytes("x")).error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(registry_.remove("s").error().kind, ErrorKind::InvalidArgument);
  EXPECT_TRUE(registry_.names().empty());
}

// Several threads call one slot while another swaps it between two versions
// 1,000 times: every call succeeds with exactly A's or B's output, and the
// old versions' warm instances are all shut down afterwards.
TEST_F(RegistryTest, SwapUnderLoad) {
  SlotOptions options;
  options.load.isolation = Isolation::Warm;
  options.load.pool.max_instances = 4;
  options.load.pool.acquire_timeout = std::chrono::milliseconds(5000);
  // Wall-clock deadlines: 4 busy threads on 2 cores (slower still under
  // ASan) must not turn into Timeouts; this test is about the swap.
  options.load.limits.deadline = std::chrono::milliseconds(2000);
  const auto a = guest_bytes("upper");
  const auto b = guest_bytes("echo");
  ASSERT_TRUE(registry_.register_plugin("s", Hook::Transform, a, options).ok());

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> bad{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      while (!done.load()) {
        auto out = registry_.call("s", bytes("mixed Case"));
        if (!out.ok() || (out->text() != "MIXED CASE" && out->text() != "mixed Case")) {
          if (bad.fetch_add(1) == 0) {
            ADD_FAILURE() << (out.ok() ? "output: " + std::string(out->text()) : out.error().to_string());
          }
        }
        calls.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 1000; ++i) {
    auto v = registry_.register_plugin("s", Hook::Transform, i % 2 == 0 ? b : a, options);
    ASSERT_TRUE(v.ok()) << v.error().to_string();
  }
  done = true;
  for (auto& th : callers) {
    th.join();
  }
  EXPECT_EQ(bad.load(), 0u) << "of " << calls.load() << " calls";
  EXPECT_GT(calls.load(), 100u);
  auto current = registry_.current("s");
  ASSERT_TRUE(rt_->quiesce());  // the old versions' instances shut down off the swapping thread
  EXPECT_EQ(current->pool_stats().busy, 0u);
  EXPECT_EQ(rt_->live_instances(), current->pool_stats().idle) << "instances of old versions leaked";
}

// A removed slot releases its plugin and warm instances once its calls
// finish: register -> call -> remove cycles leave live instances and RSS
// flat, and an unrelated slot keeps serving (before: every slot failed with
// PoolSaturated after ~250 cycles, once the removed slots held all the
// runtime's instance slots). 10,000 cycles by default (the runtime keeps the
// compiled module, so a cycle does not compile); WASMPLUG_REGISTRY_CYCLES
// overrides it.
TEST_F(RegistryTest, RemoveReleasesThePluginAndItsInstances) {
  SlotOptions options;
  options.load.isolation = Isolation::Warm;
  options.load.pool.max_instances = 4;
  reg("other", Hook::Transform, "upper", options);
  ASSERT_EQ(call_text("other", "abc"), "ABC");
  const auto wasm = guest_bytes("echo");
  auto cycle = [&](int i) {
    auto v = registry_.register_plugin("s", Hook::Transform, wasm, options);
    ASSERT_TRUE(v.ok()) << "cycle " << i << ": " << v.error().to_string();
    ASSERT_EQ(call_text("s", "x"), "x") << "cycle " << i;
    ASSERT_TRUE(registry_.remove("s").ok());
  };
  for (int i = 0; i < 200; ++i) {  // warm up allocator caches before measuring
    ASSERT_NO_FATAL_FAILURE(cycle(i));
  }
  ASSERT_TRUE(rt_->quiesce());
  const std::size_t rss_before = rss_bytes();
  const char* env = std::getenv("WASMPLUG_REGISTRY_CYCLES");
  const int cycles = env != nullptr ? std::atoi(env) : 10'000;
  for (int i = 0; i < cycles; ++i) {
    ASSERT_NO_FATAL_FAILURE(cycle(i));
    if (i % 1000 == 0) {
      ASSERT_EQ(call_text("other", "abc"), "ABC") << "cycle " << i;
      EXPECT_LE(rt_->live_instances(), 2u + 32u) << "cycle " << i;  // other's + retiring (bounded queue)
    }
  }
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(rt_->live_instances(), 1u) << "only the other slot's instance may be left";
  EXPECT_EQ(call_text("other", "abc"), "ABC");
  const std::size_t rss_after = rss_bytes();
  EXPECT_LT(rss_after, rss_before + (48u << 20)) << "RSS grew from " << rss_before << " to " << rss_after;
}

// A version someone still holds (current() handed it out) keeps no idle
// instances once its slot is removed.
TEST_F(RegistryTest, RemoveDrainsAVersionHeldElsewhere) {
  SlotOptions options;
  options.load.isolation = Isolation::Warm;
  reg("s", Hook::Transform, "echo", options);
  ASSERT_EQ(call_text("s", "x"), "x");
  auto held = registry_.current("s");
  ASSERT_EQ(held->pool_stats().idle, 1u);
  ASSERT_TRUE(registry_.remove("s").ok());
  ASSERT_TRUE(rt_->quiesce());
  EXPECT_EQ(held->pool_stats().idle, 0u);
  EXPECT_EQ(rt_->live_instances(), 0u);
  // Registered again (the load cache hands back the held version): it serves
  // and keeps its instance again.
  reg("s", Hook::Transform, "echo", options);
  ASSERT_EQ(call_text("s", "y"), "y");
  EXPECT_EQ(registry_.current("s"), held);
  EXPECT_EQ(held->pool_stats().idle, 1u);
}

}  // namespace
}  // namespace wasmplug::test
