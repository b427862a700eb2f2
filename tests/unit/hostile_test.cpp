// The hostile corpus: each misbehaviour gets its exact error kind and phase,
// the host survives, and the same Plugin serves a good call right after.
#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <functional>
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

// A deadline is measured from the call's start with a real clock: never
// early, whatever the epoch ticks do. (How late it fires is a benchmark's
// business: bench/deadline_bench.cpp.)
TEST(HostileTiming, DeadlineNeverFiresEarly) {
  auto rt = make_runtime();
  LoadOptions options;
  options.limits.deadline = std::chrono::milliseconds(20);
  auto plugin = load_guest(*rt, "hostile", options);
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto out = rt->call(*plugin, Hook::Transform, bytes("L"));
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::Timeout);
    EXPECT_EQ(out.error().phase, Phase::Call);
    EXPECT_EQ(out.error().trap, TrapCode::Interrupt);
    EXPECT_GE(elapsed, std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("ok")).ok());
}

// Runs `fn` on a thread of its own, with a native stack of `stack_bytes`.
void run_on_thread(std::size_t stack_bytes, const std::function<void()>& fn) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  auto* task = new std::function<void()>(fn);
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* arg) -> void* {
                  std::unique_ptr<std::function<void()>> f(static_cast<std::function<void()>*>(arg));
                  (*f)();
                  return nullptr;
                },
                task),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

// A 256 KiB thread stack is less than max_wasm_stack (512 KiB): recursing
// used to run into the guard page (SIGSEGV) before Wasmtime's own check.
TEST(HostileStack, SmallNativeStackIsRefusedBeforeEnteringWasm) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "hostile", named("hostile"));
  std::optional<Result<Output>> small;
  run_on_thread(256u << 10, [&] { small = rt->call(*plugin, Hook::Transform, bytes("R")); });
  ASSERT_TRUE(small && !small->ok());
  const Error& e = small->error();
  EXPECT_EQ(e.kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(e.phase, Phase::Instantiate);
  EXPECT_NE(e.message.find("KiB of native stack left; entering wasm needs 768 KiB"), std::string::npos) << e.message;
  // On a thread with room the same guest hits Wasmtime's stack limit, and
  // the plugin serves again.
  auto deep = rt->call(*plugin, Hook::Transform, bytes("R"));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().trap, TrapCode::StackOverflow);
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("ok")).ok());
  EXPECT_EQ(rt->live_instances(), 0u);
}

TEST(HostileStack, SmallThreadsWorkWithASmallerWasmStack) {
  RuntimeConfig config;
  config.max_wasm_stack = 64u << 10;
  auto rt = make_runtime(config);
  LoadOptions options = named("hostile");
  options.isolation = Isolation::Warm;
  auto plugin = load_guest(*rt, "hostile", options);
  std::optional<Result<Output>> deep;
  std::optional<Result<Output>> good;
  run_on_thread(512u << 10, [&] {
    deep = rt->call(*plugin, Hook::Transform, bytes("R"));
    good = rt->call(*plugin, Hook::Transform, bytes("ok"));
  });
  ASSERT_TRUE(deep && !deep->ok());
  EXPECT_EQ(deep->error().kind, ErrorKind::Trap);
  EXPECT_EQ(deep->error().trap, TrapCode::StackOverflow);
  ASSERT_TRUE(good && good->ok()) << good->error().to_string();
  EXPECT_EQ(good->value().text(), "ok");
}

TEST(HostileTiming, CpuDeadlineStopsALoop) {
  auto rt = make_runtime();
  LoadOptions options = named("hostile");
  options.limits.deadline = std::chrono::seconds(30);
  options.limits.cpu_deadline = std::chrono::milliseconds(30);
  auto plugin = load_guest(*rt, "hostile", options);
  auto start = std::chrono::steady_clock::now();
  auto out = rt->call(*plugin, Hook::Transform, bytes("L"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_NE(out.error().message.find("used up its CPU deadline of 30 ms"), std::string::npos) << out.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("ok")).ok());
}

// The calling thread is stalled for 400 ms mid-call (a signal handler that
// sleeps, as a descheduled thread would be): a wall-clock deadline of 200 ms
// fails the call although the guest used a few ms of CPU; a CPU deadline of
// 200 ms does not.
std::atomic<bool> g_stalled{false};
void stall_handler(int /*sig*/) {
  timespec ts{0, 400'000'000};
  nanosleep(&ts, nullptr);
  g_stalled.store(true);
}

// The stall comes from a timer on the calling thread's own CPU clock, so it
// fires inside the call (after 2 ms of the thread's CPU time, while the guest
// spins), however the threads are scheduled.
Result<Output> call_with_stall(Runtime& rt, const Plugin& plugin) {
  struct sigaction action {};
  action.sa_handler = stall_handler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR1, &action, nullptr);
  g_stalled.store(false);
  std::optional<Result<Output>> out;
  std::thread caller([&] {
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGUSR1;
    event._sigev_un._tid = gettid();  // sigev_notify_thread_id: glibc 2.36 has no name for it yet
    timer_t timer{};
    ASSERT_EQ(timer_create(CLOCK_THREAD_CPUTIME_ID, &event, &timer), 0);
    itimerspec when{};
    when.it_value.tv_nsec = 2'000'000;
    ASSERT_EQ(timer_settime(timer, 0, &when, nullptr), 0);
    // ~128M loop iterations: tens of ms of CPU, well past the timer, and
    // long enough that the epoch tick after the deadline's one tick of
    // grace comes while the guest still runs, even when a loaded machine
    // delays the ticker thread by several ms.
    out = rt.call(plugin, Hook::Transform, bytes("P\x7f"));
    timer_delete(timer);
  });
  caller.join();
  EXPECT_TRUE(g_stalled.load());
  return std::move(*out);
}

TEST(HostileTiming, CpuDeadlineIgnoresHostStalls) {
  auto rt = make_runtime();
  LoadOptions wall = named("wall");
  wall.limits.deadline = std::chrono::milliseconds(200);
  auto wall_plugin = load_guest(*rt, "hostile", wall);
  auto stalled = call_with_stall(*rt, *wall_plugin);
  ASSERT_FALSE(stalled.ok());
  EXPECT_EQ(stalled.error().kind, ErrorKind::Timeout);

  LoadOptions cpu = named("cpu");
  cpu.limits.deadline = std::chrono::seconds(30);
  cpu.limits.cpu_deadline = std::chrono::milliseconds(200);
  auto cpu_plugin = load_guest(*rt, "hostile", cpu);
  auto healthy = call_with_stall(*rt, *cpu_plugin);
  ASSERT_TRUE(healthy.ok()) << healthy.error().to_string();
}

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
