// The WASI capability set (LoadOptions::wasi, src/host/wasi.*): a C plugin on
// wasi-libc prints into the plugin's log, reads clocks and random bytes,
// exits; anything outside the set, or the set while the option is off, is
// rejected at admission by name; hostile pointers fail one call only.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "guests.hpp"

namespace wasmplug::test {
namespace {

struct Captured {
  std::mutex mutex;
  std::vector<std::pair<LogLevel, std::string>> lines;
};

std::unique_ptr<Runtime> capturing_runtime(Captured& captured) {
  RuntimeConfig config;
  config.log_sink = [&captured](const LogRecord& r) {
    std::lock_guard lock(captured.mutex);
    captured.lines.emplace_back(r.level, std::string(r.message));
  };
  return make_runtime(config);
}

LoadOptions with_wasi(std::string name = "wasi_stdio") {
  LoadOptions options = named(std::move(name));
  options.wasi = true;
  return options;
}

TEST(Wasi, PrintfReachesThePluginLogLineByLine) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("print"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "printed");
  ASSERT_TRUE(rt->quiesce());
  std::lock_guard lock(captured.mutex);
  ASSERT_EQ(captured.lines.size(), 4u);
  EXPECT_EQ(captured.lines[0], std::make_pair(LogLevel::Info, std::string("hello from printf 42")));
  EXPECT_EQ(captured.lines[1], std::make_pair(LogLevel::Info, std::string("two")));
  EXPECT_EQ(captured.lines[2], std::make_pair(LogLevel::Info, std::string("lines")));
  EXPECT_EQ(captured.lines[3], std::make_pair(LogLevel::Warn, std::string("to stderr")));
}

// Go's runtime prints a panic piece by piece: a line written in several
// fd_writes is one record, and a line left without its newline is delivered
// when the call ends.
TEST(Wasi, LineWrittenInPiecesIsOneRecord) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("pieces"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_TRUE(rt->quiesce());
  std::lock_guard lock(captured.mutex);
  ASSERT_EQ(captured.lines.size(), 2u);
  EXPECT_EQ(captured.lines[0], std::make_pair(LogLevel::Info, std::string("piece by piece")));
  EXPECT_EQ(captured.lines[1], std::make_pair(LogLevel::Info, std::string("tail")));
}

TEST(Wasi, ClocksAndSleepWork) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("clock"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "ok");
}

TEST(Wasi, RandomBytesDifferPerCall) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto a = rt->call(*plugin, Hook::Transform, bytes("random"));
  auto b = rt->call(*plugin, Hook::Transform, bytes("random"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bytes.size(), 32u);
  EXPECT_NE(a->text(), b->text());
  EXPECT_NE(a->text(), std::string(32, '0'));
}

TEST(Wasi, ProcExitZeroEndsTheCallNormally) {
  for (Isolation isolation : {Isolation::Fresh, Isolation::Warm}) {
    auto rt = make_runtime();
    LoadOptions options = with_wasi();
    options.isolation = isolation;
    auto plugin = load_guest(*rt, "wasi_stdio", options);
    ASSERT_TRUE(plugin);
    auto out = rt->call(*plugin, Hook::Transform, bytes("exit0"));
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    EXPECT_EQ(out->kind, Output::Kind::Drop);
    // The exited instance is never reused; the next call gets a live one.
    auto next = rt->call(*plugin, Hook::Transform, bytes("again"));
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    EXPECT_EQ(next->text(), "again");
    if (isolation == Isolation::Warm) {
      EXPECT_EQ(plugin->pool_stats().discarded, 1u);
    }
  }
}

TEST(Wasi, ProcExitZeroDuringInitIsAGuestError) {
  auto rt = make_runtime();
  LoadOptions options = with_wasi();
  const std::string config = "exit0";
  options.config.assign(config.begin(), config.end());
  auto plugin = load_guest(*rt, "wasi_stdio", options);
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("hello"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Init);
  EXPECT_EQ(out.error().message,
            "the plugin called proc_exit(0) during initialisation; a plugin must stay alive to serve its hooks");
}

// The reactor's _initialize (here: C constructors) runs once per instance,
// before wp_init: again for every fresh call, once for a warm instance.
TEST(Wasi, ReactorInitializerRunsOncePerInstance) {
  for (Isolation isolation : {Isolation::Fresh, Isolation::Warm}) {
    auto rt = make_runtime();
    LoadOptions options = with_wasi();
    options.isolation = isolation;
    options.pool.max_instances = 1;
    auto plugin = load_guest(*rt, "wasi_stdio", options);
    ASSERT_TRUE(plugin);
    for (int i = 0; i < 3; ++i) {
      auto out = rt->call(*plugin, Hook::Transform, bytes("ctors"));
      ASSERT_TRUE(out.ok()) << out.error().to_string();
      EXPECT_EQ(out->text(), "1");
    }
  }
}

TEST(Wasi, ProcExitNonZeroIsAGuestError) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("exit3"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::GuestError);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_EQ(out.error().message, "the plugin exited with status 3 (proc_exit)");
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("fine")).ok());
}

TEST(Wasi, OffByDefaultRejectsEveryWasiImportByName) {
  auto rt = make_runtime();
  auto plugin = rt->load(guest_bytes("wasi_stdio"), named("wasi_stdio"));
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.error().kind, ErrorKind::Rejected);
  EXPECT_EQ(plugin.error().phase, Phase::Admit);
  EXPECT_NE(plugin.error().message.find("the module imports WASI functions (clock_time_get, fd_close, "
                                        "fd_fdstat_get, fd_seek, fd_write, poll_oneoff, proc_exit, random_get) but the "
                                        "WASI capability set is off for this plugin (LoadOptions::wasi, CLI --wasi)"),
            std::string::npos)
      << plugin.error().message;
}

TEST(Wasi, ReportListsTheWasiFunctionsUsed) {
  auto rt = make_runtime();
  auto report = rt->inspect(guest_bytes("wasi_stdio"), with_wasi());
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->admitted());
  const auto& used = report->wasi_functions;
  for (const char* name : {"fd_write", "proc_exit", "random_get", "clock_time_get", "poll_oneoff"}) {
    EXPECT_NE(std::find(used.begin(), used.end(), name), used.end()) << name;
  }
}

TEST(Wasi, FunctionOutsideTheSetIsRejectedByName) {
  auto rt = make_runtime();
  for (bool wasi : {true, false}) {
    LoadOptions options = named("path_open");
    options.wasi = wasi;
    auto plugin = rt->load(guest_bytes("wasi_path_open"), options);
    ASSERT_FALSE(plugin.ok());
    EXPECT_EQ(plugin.error().kind, ErrorKind::Rejected);
    EXPECT_NE(plugin.error().message.find("import wasi_snapshot_preview1.path_open "
                                          "(i32, i32, i32, i32, i32, i64, i64, i32, i32) -> (i32) is outside "
                                          "wasmplug's WASI capability set"),
              std::string::npos)
        << plugin.error().message;
    // fd_write is in the set: named only when the option is off.
    EXPECT_EQ(plugin.error().message.find("imports WASI functions (fd_write) but the WASI capability set is off") ==
                  std::string::npos,
              wasi);
  }
}

TEST(Wasi, HostileIovecsFailOneCallOnly) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("hostile"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::AbiViolation);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_NE(out.error().message.find("fd_write: iovec 0 range [4294967280, 4294967280+64) lies outside"),
            std::string::npos)
      << out.error().message;
  auto table = rt->call(*plugin, Hook::Transform, bytes("hostile-table"));
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().kind, ErrorKind::AbiViolation);
  EXPECT_NE(table.error().message.find("fd_write: iovec array range [4294967292, 4294967292+8000)"),
            std::string::npos)
      << table.error().message;
  auto good = rt->call(*plugin, Hook::Transform, bytes("good"));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->text(), "good");
  ASSERT_TRUE(rt->quiesce());
  std::lock_guard lock(captured.mutex);
  EXPECT_TRUE(captured.lines.empty());  // nothing was logged from a bad write
}

// 10,000 printed lines in one call: the call's log budget lets its lines
// through, then one marker counts the rest; host memory stays flat.
TEST(Wasi, PrintFloodIsCutToTheCallsBudget) {
  Captured captured;
  auto rt = capturing_runtime(captured);
  const RuntimeConfig& config = rt->config();
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  const std::size_t rss_before = rss_bytes();
  auto out = rt->call(*plugin, Hook::Transform, bytes("flood"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "flooded");
  ASSERT_TRUE(rt->quiesce());
  EXPECT_LT(rss_bytes(), rss_before + (32u << 20));
  std::lock_guard lock(captured.mutex);
  ASSERT_EQ(captured.lines.size(), config.max_log_lines_per_call + 1);
  EXPECT_EQ(captured.lines[0].second, "flood line 0 with some padding to make it longer");
  const auto& marker = captured.lines.back();
  EXPECT_EQ(marker.first, LogLevel::Warn);
  EXPECT_EQ(marker.second.rfind("[", 0), 0u);
  EXPECT_NE(marker.second.find(" lines / "), std::string::npos);
  EXPECT_NE(marker.second.find("over this call's log budget dropped]"), std::string::npos);
}

// A 10 s nanosleep (poll_oneoff) under a 50 ms deadline: the call ends with
// Timeout at the deadline, the host thread is not held for 10 s.
TEST(Wasi, SleepIsBoundedByTheCallDeadline) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  const auto start = std::chrono::steady_clock::now();
  auto out = rt->call(*plugin, Hook::Transform, bytes("sleep"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(out.error().phase, Phase::Call);
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("fine")).ok());
}

// poll_oneoff copies the subscriptions into host memory before it writes
// events (the arrays may overlap): their count is bounded.
TEST(Wasi, PollSubscriptionsAreBounded) {
  auto rt = make_runtime();
  auto plugin = load_guest(*rt, "wasi_stdio", with_wasi());
  ASSERT_TRUE(plugin);
  auto out = rt->call(*plugin, Hook::Transform, bytes("subs"));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->text(), "4096:0 4097:28");  // 28: EINVAL
  EXPECT_TRUE(rt->call(*plugin, Hook::Transform, bytes("fine")).ok());
}

}  // namespace
}  // namespace wasmplug::test
