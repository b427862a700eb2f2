// The hostile corpus: each misbehaviour gets its exact error kind and phase,
// the host survives, and the same Plugin serves a good call right after.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

struct HostileCase {
  const char* name;
  Hook hook;
  const char* input;
  ErrorKind kind;
  Phase phase;
  TrapCode trap;
  const char* message_part;
};

// Readable names in test output instead of a byte dump.
void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

class Hostile : public ::testing::TestWithParam<HostileCase> {
 protected:
  static void SetUpTestSuite() {
    rt_ = make_runtime().release();
    LoadOptions options;
    options.name = "hostile";
    options.limits.max_output_bytes = 1024;
    plugin_ = new std::shared_ptr<const Plugin>(load_guest(*rt_, "hostile", options));
  }
  static void TearDownTestSuite() {
    delete plugin_;
    delete rt_;
  }
  static Runtime* rt_;
  static std::shared_ptr<const Plugin>* plugin_;
};
Runtime* Hostile::rt_ = nullptr;
std::shared_ptr<const Plugin>* Hostile::plugin_ = nullptr;

TEST_P(Hostile, PreciseErrorThenServesAgain) {
  const HostileCase& c = GetParam();
  const Plugin& plugin = **plugin_;
  auto bad = rt_->call(plugin, c.hook, bytes(c.input));
  ASSERT_FALSE(bad.ok()) << c.name << " succeeded";
  const Error& e = bad.error();
  EXPECT_EQ(e.kind, c.kind) << e.to_string();
  EXPECT_EQ(e.phase, c.phase) << e.to_string();
  EXPECT_EQ(e.trap, c.trap) << e.to_string();
  EXPECT_EQ(e.plugin, "hostile");
  EXPECT_EQ(e.hook, std::string(to_string(c.hook)));
  EXPECT_NE(e.message.find(c.message_part), std::string::npos) << e.to_string();

  auto good = rt_->call(plugin, Hook::Transform, bytes("good record"));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->text(), "good record");
  EXPECT_EQ(rt_->live_instances(), 0u);
}

const HostileCase kCases[] = {
    {"infinite_loop", Hook::Transform, "L", ErrorKind::Timeout, Phase::Call, TrapCode::Interrupt,
     "deadline of 50 ms"},
    {"memory_grow_bomb", Hook::Transform, "G", ErrorKind::MemoryLimit, Phase::Call, TrapCode::Unreachable,
     "limit of 16 MiB"},
    {"unbounded_recursion", Hook::Transform, "R", ErrorKind::Trap, Phase::Call, TrapCode::StackOverflow,
     "stack"},
    {"unreachable", Hook::Transform, "U", ErrorKind::Trap, Phase::Call, TrapCode::Unreachable, "unreachable"},
    {"load_out_of_bounds", Hook::Transform, "M", ErrorKind::Trap, Phase::Call, TrapCode::MemoryOutOfBounds,
     "out of bounds"},
    {"divide_by_zero", Hook::Filter, "D", ErrorKind::Trap, Phase::Call, TrapCode::IntegerDivisionByZero,
     "divide by zero"},
    {"output_past_memory_end", Hook::Transform, "O", ErrorKind::AbiViolation, Phase::Read, TrapCode::None,
     "range [65520, 65520+256) lies outside guest memory of 65536 bytes"},
    {"output_ptr_len_overflow", Hook::Transform, "V", ErrorKind::AbiViolation, Phase::Read, TrapCode::None,
     "range [4294967280, 4294967280+256)"},
    {"null_output_with_length", Hook::Transform, "N", ErrorKind::AbiViolation, Phase::Read, TrapCode::None,
     "null pointer with length 5"},
    {"output_over_limit", Hook::Transform, "T", ErrorKind::LimitExceeded, Phase::Read, TrapCode::None,
     "32768 bytes; the output limit is 1024"},
    {"guest_fail", Hook::Transform, "F", ErrorKind::GuestError, Phase::Call, TrapCode::HostTrap, "bad record"},
    {"log_bad_pointer", Hook::Transform, "B", ErrorKind::AbiViolation, Phase::Call, TrapCode::HostTrap,
     "log: message range [65000, 65000+1000)"},
    {"log_bad_level", Hook::Filter, "K", ErrorKind::AbiViolation, Phase::Call, TrapCode::HostTrap,
     "log: level 9"},
    {"filter_bad_verdict", Hook::Filter, "X", ErrorKind::AbiViolation, Phase::Call, TrapCode::None,
     "wp_filter returned 7"},
};

INSTANTIATE_TEST_SUITE_P(Corpus, Hostile, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(HostileTiming, InfiniteLoopStopsWithinTwiceTheDeadline) {
  auto rt = make_runtime();
  LoadOptions options;
  options.limits.deadline = std::chrono::milliseconds(100);
  auto plugin = load_guest(*rt, "hostile", options);
  auto start = std::chrono::steady_clock::now();
  auto out = rt->call(*plugin, Hook::Transform, bytes("L"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Timeout);
  EXPECT_GE(elapsed, std::chrono::milliseconds(100));
  EXPECT_LT(elapsed, std::chrono::milliseconds(200));
}

TEST(HostileModules, AllocReturningZero) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "alloc_zero");
  auto out = rt->call(*plugin, Hook::Transform, bytes("data"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::AbiViolation);
  EXPECT_EQ(out.error().phase, Phase::Alloc);
  EXPECT_NE(out.error().message.find("wp_alloc returned 0"), std::string::npos);
  // An empty input needs no allocation, so the plugin still answers it.
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, {}).ok());
}

TEST(HostileModules, AllocReturningBufferPastTheEnd) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "alloc_oob");
  auto out = rt->call(*plugin, Hook::Transform, bytes("0123456789abcdefXYZ"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::AbiViolation);
  EXPECT_EQ(out.error().phase, Phase::Write);
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("short")).ok());
}

TEST(HostileModules, StartFunctionLoopingForever) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "start_loop");  // admitted: no guest code runs at load
  ASSERT_TRUE(plugin);
  EXPECT_TRUE(plugin->report().has_start_function);
  for (int i = 0; i < 2; ++i) {
    auto out = rt->call(*plugin, Hook::Observe, bytes("x"));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::Timeout);
    EXPECT_EQ(out.error().phase, Phase::Instantiate);
  }
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(HostileModules, OutOfFuel) {
  RuntimeConfig config;
  config.enable_fuel = true;
  auto rt = make_runtime(config);
  LoadOptions options;
  options.limits.fuel = 100'000;
  options.limits.deadline = std::chrono::seconds(10);
  auto plugin = load_guest(*rt, "hostile", options);
  auto out = rt->call(*plugin, Hook::Transform, bytes("L"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::OutOfFuel);
  EXPECT_EQ(out.error().trap, TrapCode::OutOfFuel);
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("ok")).ok());
}

TEST(HostileModules, PoolSaturatedInsteadOfWaiting) {
  RuntimeConfig config;
  config.max_instances = 1;
  auto rt = make_runtime(config);
  LoadOptions options;
  options.limits.deadline = std::chrono::milliseconds(300);
  auto plugin = load_guest(*rt, "hostile", options);
  std::optional<ErrorKind> busy_error;
  std::thread busy([&] {
    auto r = rt->call(*plugin, Hook::Transform, bytes("L"));
    busy_error = r.ok() ? std::nullopt : std::optional(r.error().kind);
  });
  while (rt->live_instances() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto start = std::chrono::steady_clock::now();
  auto out = rt->call(*plugin, Hook::Transform, bytes("x"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::PoolSaturated);
  busy.join();
  EXPECT_EQ(busy_error, ErrorKind::Timeout);
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("x")).ok());
}

}  // namespace
}  // namespace wasmplug::test
