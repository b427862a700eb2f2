// Host functions for embedders (wasmplug/host.hpp): registration, grants at
// admission, guest memory through the bounds-checked accessor, errors and
// exceptions from callbacks, concurrency and the deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "guests.hpp"
#include "wasmplug/host.hpp"

namespace wasmplug::test {
namespace {

/// What the test's host functions share, captured by shared_ptr.
struct Seen {
  std::atomic<std::uint64_t> shout_calls{0};
  std::mutex mutex;
  std::string plugin;
  std::string hook;
  std::string function;
};

// env.shout(ptr, len) -> i32: upper-cases the guest's bytes in place and
// returns their count; "throw" throws, "fail" fails the call with an Error.
HostFunction shout(const std::shared_ptr<Seen>& seen) {
  return HostFunction::make(
      "env", "shout", [seen](HostCallContext& cx, std::uint32_t ptr, std::uint32_t len) -> Result<std::int32_t> {
        seen->shout_calls.fetch_add(1, std::memory_order_relaxed);
        {
          std::lock_guard lock(seen->mutex);
          seen->plugin = cx.plugin();
          seen->hook = cx.hook() ? std::string(to_string(*cx.hook())) : "";
          seen->function = cx.function();
        }
        auto text = cx.read_text(ptr, len);
        if (!text) {
          return std::move(text).error();
        }
        if (*text == "throw") {
          throw std::runtime_error("lookup table missing");
        }
        if (*text == "fail") {
          return cx.error(ErrorKind::LimitExceeded, "quota of 3 lookups used up");
        }
        if (*text == "invalid") {
          return cx.error(ErrorKind::InvalidArgument, "no such key");
        }
        std::string upper(*text);
        for (char& c : upper) {
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        if (auto written = cx.write(ptr, bytes(upper)); !written) {
          return std::move(written).error();
        }
        return static_cast<std::int32_t>(upper.size());
      });
}

// env.scale(i64, f64) -> f64: x * f.
HostFunction scale() {
  return HostFunction::make("env", "scale", [](HostCallContext& /*cx*/, std::int64_t x, double f) -> Result<double> {
    return static_cast<double>(x) * f;
  });
}

std::unique_ptr<Runtime> host_runtime(const std::shared_ptr<Seen>& seen) {
  RuntimeConfig config;
  config.host_functions = {shout(seen), scale()};
  return make_runtime(std::move(config));
}

LoadOptions granted(std::string name, std::vector<HostFunctionGrant> grants = {{"env", "shout"}, {"env", "scale"}}) {
  LoadOptions options = named(std::move(name));
  options.host_functions = std::move(grants);
  return options;
}

TEST(HostApi, GrantedFunctionsGetGuestStringsAndReturnValues) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto plugin = load_guest(*rt, "host_api", granted("shouter"));
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("hello, host"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "HELLO, HOST");
  {
    std::lock_guard lock(seen->mutex);
    EXPECT_EQ(seen->plugin, "shouter");
    EXPECT_EQ(seen->hook, "transform");
    EXPECT_EQ(seen->function, "env.shout");
  }
  // filter keeps only when scale(3, 0.5) == 1.5 and shout returned the length.
  auto kept = rt->call(*plugin, Hook::Filter, bytes("abc"));
  ASSERT_TRUE(kept.ok()) << kept.error().to_string();
  EXPECT_EQ(kept->kind, Output::Kind::Keep);
  EXPECT_EQ(seen->shout_calls.load(), 2u);
}

TEST(HostApi, ImportNotGrantedIsRejectedNamingIt) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto none = rt->load(guest_bytes("host_api"), named("ungranted"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(none.error().phase, Phase::Admit);
  EXPECT_EQ(none.error().plugin, "ungranted");
  EXPECT_NE(none.error().message.find("import env.shout is a host function of the embedder that this plugin was "
                                      "not granted"),
            std::string::npos)
      << none.error().message;
  EXPECT_NE(none.error().message.find("import env.scale"), std::string::npos) << none.error().message;

  // Granting one leaves the other refused, and inspect says the same.
  LoadOptions half = granted("half", {{"env", "shout"}});
  auto partly = rt->load(guest_bytes("host_api"), half);
  ASSERT_FALSE(partly.ok());
  EXPECT_EQ(partly.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(partly.error().message.find("env.shout is"), std::string::npos) << partly.error().message;
  EXPECT_NE(partly.error().message.find("import env.scale is a host function of the embedder"), std::string::npos)
      << partly.error().message;
  auto report = rt->inspect(guest_bytes("host_api"), half);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("env.scale"), std::string::npos);
  EXPECT_EQ(seen->shout_calls.load(), 0u);
}

TEST(HostApi, ImportWithAnotherSignatureIsRejected) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto plugin = rt->load(guest_bytes("host_api_mistyped"), granted("mistyped", {{"env", "shout"}}));
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(plugin.error().phase, Phase::Admit);
  EXPECT_NE(plugin.error().message.find("import env.shout has type (i32) -> (i32); the embedder registered "
                                        "env.shout as (i32, i32) -> (i32)"),
            std::string::npos)
      << plugin.error().message;
}

TEST(HostApi, ThrowingCallbackIsATrapAndThePluginServesTheNextCall) {
  for (Isolation isolation : {Isolation::Fresh, Isolation::Warm}) {
    auto seen = std::make_shared<Seen>();
    auto rt = host_runtime(seen);
    LoadOptions options = granted("thrower");
    options.isolation = isolation;
    auto plugin = load_guest(*rt, "host_api", options);
    ASSERT_TRUE(plugin);
    auto out = rt->call(*plugin, Hook::Transform, bytes("throw"));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::Trap);
    EXPECT_EQ(out.error().trap, TrapCode::HostTrap);
    EXPECT_EQ(out.error().phase, Phase::Call);
    EXPECT_EQ(out.error().plugin, "thrower");
    EXPECT_EQ(out.error().hook, "transform");
    EXPECT_EQ(out.error().message, "host function env.shout threw: lookup table missing");
    auto good = rt->call(*plugin, Hook::Transform, bytes("again"));
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_EQ(good->text(), "AGAIN");
  }
}

TEST(HostApi, OutOfBoundsGuestPointerIsAnAbiViolation) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto plugin = load_guest(*rt, "host_api_oob", granted("oob", {{"env", "shout"}}));
  ASSERT_TRUE(plugin);
  const std::size_t rss_before = rss_bytes();
  auto out = rt->call(*plugin, Hook::Transform, bytes("oob"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::AbiViolation);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_EQ(out.error().message,
            "env.shout: read of range [65000, 65000+4096) lies outside guest memory of 65536 bytes");
  EXPECT_LT(rss_bytes(), rss_before + (16u << 20));
  auto good = rt->call(*plugin, Hook::Transform, bytes("fine!"));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->text(), "FINE!");
}

TEST(HostApi, ErrorFromCallbackReachesTheCallerExactly) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto plugin = load_guest(*rt, "host_api", granted("quota"));
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("fail"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::LimitExceeded);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_EQ(out.error().plugin, "quota");
  EXPECT_EQ(out.error().hook, "transform");
  EXPECT_EQ(out.error().message, "quota of 3 lookups used up");
  EXPECT_EQ(out.error().trap, TrapCode::None);
  auto good = rt->call(*plugin, Hook::Transform, bytes("ok"));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->text(), "OK");
}

// The guest was unwound mid-code by the failing host call, whatever kind of
// error the embedder chose: a warm instance is never reused after it.
TEST(HostApi, WarmInstanceIsDiscardedAfterACallbackFailsTheCall) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  for (const char* input : {"invalid", "fail"}) {
    LoadOptions options = granted("warm-fail");
    options.isolation = Isolation::Warm;
    options.pool.max_instances = 1;
    auto plugin = load_guest(*rt, "host_api", options);
    ASSERT_TRUE(plugin);
    auto out = rt->call(*plugin, Hook::Transform, bytes(input));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(plugin->pool_stats().discarded, 1u) << input << ": " << out.error().to_string();
    auto good = rt->call(*plugin, Hook::Transform, bytes("ok"));
    ASSERT_TRUE(good.ok()) << good.error().to_string();
    EXPECT_EQ(good->text(), "OK");
  }
}

TEST(HostApi, ConcurrentCallsShareCapturedState) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto plugin = load_guest(*rt, "host_api", granted("busy"));
  ASSERT_TRUE(plugin);
  constexpr int kThreads = 4;
  constexpr int kCalls = 100;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string input = "thread " + std::to_string(t) + " call " + std::to_string(i);
        std::string expected = input;
        for (char& c : expected) {
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        auto out = rt->call(*plugin, Hook::Transform, bytes(input));
        if (!out.ok() || out->text() != expected) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(seen->shout_calls.load(), std::uint64_t{kThreads} * kCalls);
}

TEST(HostApi, DeadlineFiresWhileTheGuestLoopsCallingAHostFunction) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  LoadOptions options = granted("looper");
  options.limits.deadline = std::chrono::milliseconds(100);
  auto plugin = load_guest(*rt, "host_api", options);
  ASSERT_TRUE(plugin);
  const auto start = std::chrono::steady_clock::now();
  auto out = rt->call(*plugin, Hook::Observe, bytes("loop"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_GT(seen->shout_calls.load(), 1u);
  EXPECT_LT(took, std::chrono::seconds(10));
  auto good = rt->call(*plugin, Hook::Transform, bytes("after"));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->text(), "AFTER");
}

// A call whose thread was away across its deadline (here: a host function
// sleeping past it, as a descheduled thread would be) and that then needs
// only microseconds finishes: the epoch callback gives a call found past its
// wall deadline one more tick, once. A guest that runs on after that tick is
// still stopped with Timeout.
TEST(HostApi, ACallAwayAcrossItsDeadlineFinishesButOneThatRunsOnIsStopped) {
  RuntimeConfig config;
  config.host_functions = {HostFunction::make("env", "stall", [](HostCallContext&, std::int32_t ms) -> Result<void> {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return {};
  })};
  auto rt = make_runtime(std::move(config));
  LoadOptions options = named("stall");
  options.host_functions = {{"env", "stall"}};
  options.limits.deadline = std::chrono::milliseconds(20);
  auto plugin = load_guest(*rt, "stall", options);
  ASSERT_TRUE(plugin);
  for (int i = 0; i < 3; ++i) {
    auto out = rt->call(*plugin, Hook::Transform, bytes("late but done"));
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(out->text(), "late but done");
  }
  const auto start = std::chrono::steady_clock::now();
  auto looped = rt->call(*plugin, Hook::Observe, bytes("x"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(looped.ok());
  EXPECT_EQ(looped.error().kind, ErrorKind::Timeout) << looped.error().to_string();
  EXPECT_LT(took, std::chrono::seconds(10));
  auto again = rt->call(*plugin, Hook::Transform, bytes("again"));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
}

Error create_error(std::vector<HostFunction> functions) {
  RuntimeConfig config;
  config.host_functions = std::move(functions);
  auto rt = Runtime::create(std::move(config));
  EXPECT_FALSE(rt.ok());
  return rt.ok() ? Error{} : rt.error();
}

TEST(HostApi, RegistrationRefusesClashesAndReservedNames) {
  auto noop = [](HostCallContext& /*cx*/, std::uint32_t /*a*/) -> Result<void> { return {}; };
  Error builtin = create_error({HostFunction::make("env", "log", noop)});  // rustcdc's env.log
  EXPECT_EQ(builtin.kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(builtin.phase, Phase::Config);
  EXPECT_EQ(builtin.message,
            "RuntimeConfig::host_functions: env.log is the name of a built-in host function ((i32, i32, i32) -> ()); "
            "choose another module or name");
  Error reserved = create_error({HostFunction::make("wasmplug", "extra", noop)});
  EXPECT_EQ(reserved.kind, ErrorKind::InvalidArgument);
  EXPECT_NE(reserved.message.find("wasmplug.extra: the module wasmplug is reserved"), std::string::npos);
  Error wasi = create_error({HostFunction::make("wasi_snapshot_preview1", "fd_write", noop)});
  EXPECT_EQ(wasi.kind, ErrorKind::InvalidArgument);
  Error twice = create_error({HostFunction::make("env", "f", noop), HostFunction::make("env", "f", noop)});
  EXPECT_EQ(twice.message, "RuntimeConfig::host_functions: env.f is registered twice");
  Error empty = create_error({HostFunction::make("env", "", noop)});
  EXPECT_EQ(empty.kind, ErrorKind::InvalidArgument);
  Error not_utf8 = create_error({HostFunction::make("env", std::string("\xff"), noop)});
  EXPECT_EQ(not_utf8.kind, ErrorKind::InvalidArgument);
}

TEST(HostApi, GrantsMustNameRegisteredFunctionsOnce) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto unknown = rt->load(guest_bytes("host_api"), granted("unknown", {{"env", "shout"}, {"env", "nope"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(unknown.error().message,
            "LoadOptions::host_functions: env.nope is not a registered host function (RuntimeConfig::host_functions)");
  auto twice = rt->load(guest_bytes("host_api"), granted("twice", {{"env", "shout"}, {"env", "shout"}}));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(twice.error().message, "LoadOptions::host_functions: env.shout is granted twice");
}

TEST(HostApi, GrantsArePartOfTheContentHash) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  auto a = load_guest(*rt, "echo", granted("echo", {{"env", "shout"}}));
  auto b = load_guest(*rt, "echo", named("echo"));
  auto c = load_guest(*rt, "echo", granted("echo", {{"env", "scale"}, {"env", "shout"}}));
  auto d = load_guest(*rt, "echo", granted("echo", {{"env", "shout"}, {"env", "scale"}}));
  ASSERT_TRUE(a && b && c && d);
  EXPECT_NE(a->content_hash(), b->content_hash());
  EXPECT_NE(a->content_hash(), c->content_hash());
  EXPECT_EQ(c->content_hash(), d->content_hash());  // order of grants does not matter
}

TEST(HostApi, AvailableToOtherProfilesUnderTheSameGrants) {
  auto seen = std::make_shared<Seen>();
  auto rt = host_runtime(seen);
  LoadOptions options = granted("lb", {{"env", "shout"}});
  options.abi = AbiProfile::CcLb;
  auto plugin = load_guest(*rt, "cc_lb_host_api", options);
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("route me"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "ROUTE ME");
  options.host_functions.clear();
  auto refused = rt->load(guest_bytes("cc_lb_host_api"), options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Rejected);
  EXPECT_NE(refused.error().message.find("import env.shout is a host function of the embedder"), std::string::npos)
      << refused.error().message;
}

TEST(HostApi, CapturedStateIsReleasedWithTheLastPlugin) {
  auto seen = std::make_shared<Seen>();
  std::shared_ptr<const Plugin> plugin;
  {
    auto rt = host_runtime(seen);
    plugin = load_guest(*rt, "host_api", granted("survivor"));
    ASSERT_TRUE(plugin);
    auto out = rt->call(*plugin, Hook::Transform, bytes("x"));
    ASSERT_TRUE(out.ok());
  }
  // The plugin's instance-pre still holds the function.
  EXPECT_GT(seen.use_count(), 1);
  plugin.reset();
  EXPECT_EQ(seen.use_count(), 1);
}

}  // namespace
}  // namespace wasmplug::test
