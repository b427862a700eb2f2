// End-to-end tests of the wasmplug CLI: the real binary on real files.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status;
  std::string stdout_text;
  std::string stderr_text;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wasmplug_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome run(const std::string& args) {
    std::string cmd = std::string(WASMPLUG_CLI) + " " + args + " >" + (dir_ / "stdout").string() + " 2>" +
                      (dir_ / "stderr").string();
    int raw = std::system(cmd.c_str());
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
  }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  static std::string guest(const std::string& stem) { return std::string(WASMPLUG_GUEST_DIR) + "/guest_" + stem + ".wasm"; }
  static std::string example(const std::string& name) { return std::string(WASMPLUG_EXAMPLE_DIR) + "/" + name + ".wasm"; }
  static std::string redact() { return example("redact"); }

  fs::path dir_;
};

TEST_F(Cli, RunsTheSampleData) {
  auto out = dir_ / "out.jsonl";
  Outcome o = run("run " + redact() + " --hook transform --input " + WASMPLUG_SAMPLE_DATA + " --output " +
                  out.string() + " --errors " + (dir_ / "errors.jsonl").string());
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  std::string text = slurp(out);
  EXPECT_EQ(count_lines(text), 3000u);
  EXPECT_EQ(text.find("@example.com"), std::string::npos) << "an e-mail was not redacted";
  EXPECT_NE(o.stderr_text.find("records in: 3000, out: 3000, dropped: 0, failed: 0"), std::string::npos)
      << o.stderr_text;
  EXPECT_TRUE(slurp(dir_ / "errors.jsonl").empty());
}

TEST_F(Cli, FailedRecordsGoToTheErrorsFile) {
  auto input = write("in.txt", "first\nUnreachable here\n\nsecond\nFail me\nthird\n");
  Outcome o = run("run " + guest("hostile") + " --format lines --input " + input.string() + " --output " +
                  (dir_ / "out.txt").string() + " --errors " + (dir_ / "errors.jsonl").string());
  EXPECT_EQ(o.status, 1) << o.stderr_text;
  EXPECT_EQ(slurp(dir_ / "out.txt"), "first\nsecond\nthird\n");
  std::string errors = slurp(dir_ / "errors.jsonl");
  EXPECT_EQ(count_lines(errors), 2u) << errors;
  EXPECT_NE(errors.find(R"({"line":2,"kind":"Trap","phase":"call")"), std::string::npos) << errors;
  EXPECT_NE(errors.find(R"("record":"Unreachable here")"), std::string::npos) << errors;
  EXPECT_NE(errors.find(R"({"line":5,"kind":"GuestError","phase":"call","message":"bad record")"),
            std::string::npos)
      << errors;
  EXPECT_NE(o.stderr_text.find("records in: 5, out: 3, dropped: 0, failed: 2, blank lines skipped: 1"),
            std::string::npos)
      << o.stderr_text;
}

TEST_F(Cli, MalformedJsonLinesAreReportedNotLost) {
  auto input = write("in.jsonl", "{\"a\":1}\n{not json\n[1,2]\n");
  Outcome o = run("run " + redact() + " --input " + input.string() + " --errors " + (dir_ / "e.jsonl").string());
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.stdout_text, "{\"a\":1}\n[1,2]\n");
  std::string errors = slurp(dir_ / "e.jsonl");
  EXPECT_NE(errors.find(R"({"line":2,"kind":"InvalidInput","phase":"input","message":"malformed JSON)"),
            std::string::npos)
      << errors;
}

TEST_F(Cli, ErrorsGoToStderrWithoutAnErrorsFile) {
  auto input = write("in.txt", "Unreachable\n");
  Outcome o = run("run " + guest("hostile") + " --format lines --input " + input.string());
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.stderr_text.find("line 1: Trap in call:"), std::string::npos) << o.stderr_text;
}

TEST_F(Cli, FilterAndObserveHooks) {
  auto input = write("in.txt", "keep\n# drop\nkeep too\n");
  Outcome o = run("run " + guest("echo") + " --hook filter --format lines --input " + input.string());
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  EXPECT_EQ(o.stdout_text, "keep\nkeep too\n");
  EXPECT_NE(o.stderr_text.find("out: 2, dropped: 1"), std::string::npos) << o.stderr_text;

  o = run("run " + guest("echo") + " --hook observe --format lines --input " + input.string());
  EXPECT_EQ(o.status, 0);
  EXPECT_TRUE(o.stdout_text.empty());
  EXPECT_NE(o.stderr_text.find("] # drop"), std::string::npos) << "guest log lines reach stderr: " << o.stderr_text;
}

TEST_F(Cli, BadPluginsGiveOneLineErrors) {
  Outcome missing = run("run " + (dir_ / "nope.wasm").string() + " --input /dev/null");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.stderr_text.find("cannot open"), std::string::npos) << missing.stderr_text;
  EXPECT_EQ(count_lines(missing.stderr_text), 1u) << missing.stderr_text;

  auto text = write("text.wasm", "this is not wasm");
  Outcome not_wasm = run("run " + text.string() + " --input /dev/null");
  EXPECT_EQ(not_wasm.status, 2);
  EXPECT_NE(not_wasm.stderr_text.find("not a WebAssembly module"), std::string::npos) << not_wasm.stderr_text;
  EXPECT_EQ(count_lines(not_wasm.stderr_text), 1u);

  Outcome rejected = run("run " + guest("forbidden_import") + " --input /dev/null");
  EXPECT_EQ(rejected.status, 2);
  EXPECT_NE(rejected.stderr_text.find("rejected: import env.system"), std::string::npos) << rejected.stderr_text;

  Outcome no_hook = run("run " + guest("counter") + " --hook filter --input /dev/null");
  EXPECT_EQ(no_hook.status, 2);
  EXPECT_NE(no_hook.stderr_text.find("does not export the filter hook"), std::string::npos);

  Outcome missing_input = run("run " + redact() + " --input " + (dir_ / "none.jsonl").string());
  EXPECT_EQ(missing_input.status, 2);
  EXPECT_NE(missing_input.stderr_text.find("cannot read input"), std::string::npos);
}

TEST_F(Cli, WarmIsolationKeepsPluginState) {
  auto cfg = write("cfg", "every=1000");
  Outcome o = run("run " + example("count") + " --hook observe --isolation warm --config " + cfg.string() +
                  " --input " + WASMPLUG_SAMPLE_DATA);
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("events seen: 3000"), std::string::npos) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("total events: 3000"), std::string::npos) << o.stderr_text;
}

TEST_F(Cli, ConfigRejectedByThePluginStopsBeforeAnyRecord) {
  auto cfg = write("cfg", "loud");
  Outcome o = run("run " + example("route-filter") + " --hook filter --config " + cfg.string() + " --input " +
                  WASMPLUG_SAMPLE_DATA);
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find("wp_init rejected its config"), std::string::npos) << o.stderr_text;
  EXPECT_TRUE(o.stdout_text.empty());
  Outcome missing = run("run " + example("route-filter") + " --config " + (dir_ / "none").string());
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.stderr_text.find("cannot read config file"), std::string::npos);
}

TEST_F(Cli, RouteFilterAndEnrichOnTheSampleData) {
  auto cfg = write("cfg", "error");
  Outcome o = run("run " + example("route-filter") + " --hook filter --config " + cfg.string() + " --input " +
                  WASMPLUG_SAMPLE_DATA + " --output " + (dir_ / "errors.jsonl").string());
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  std::string kept = slurp(dir_ / "errors.jsonl");
  EXPECT_GT(count_lines(kept), 0u);
  EXPECT_EQ(kept.find("\"level\":\"info\""), std::string::npos);
  o = run("run " + example("enrich") + " --input " + (dir_ / "errors.jsonl").string());
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  EXPECT_EQ(count_lines(o.stdout_text), count_lines(kept));
  EXPECT_NE(o.stdout_text.find("\"alert\":true"), std::string::npos);
}

// The Go twins of the examples (examples/plugins/*/go, sdk/go) give the same
// output as the C plugins on the same input, through the CLI with --wasi.
TEST_F(Cli, GoExamplesMatchTheirCTwins) {
  if (!WASMPLUG_HAVE_GO) {
    GTEST_SKIP() << "Go >= 1.24 not found at configure time";
  }
  const std::string data = WASMPLUG_SAMPLE_DATA;
  Outcome c = run("run " + redact() + " --input " + data);
  ASSERT_EQ(c.status, 0) << c.stderr_text;
  Outcome go = run("run " + example("redact-go") + " --wasi --isolation warm --input " + data);
  ASSERT_EQ(go.status, 0) << go.stderr_text;
  EXPECT_EQ(count_lines(go.stdout_text), 3000u);
  EXPECT_TRUE(go.stdout_text == c.stdout_text) << "redact-go differs from redact";
  // Fresh isolation too (a new Go instance per record, _initialize each time).
  std::ifstream sample(data);
  std::string head;
  for (std::string line; head.size() < 4096 && std::getline(sample, line);) {
    head += line + "\n";
  }
  auto few = write("few.jsonl", head);
  c = run("run " + redact() + " --input " + few.string());
  go = run("run " + example("redact-go") + " --wasi --input " + few.string());
  ASSERT_EQ(go.status, 0) << go.stderr_text;
  EXPECT_EQ(go.stdout_text, c.stdout_text);

  for (const char* level : {"warn", "error", ""}) {
    auto cfg = write("cfg", level);
    c = run("run " + example("route-filter") + " --hook filter --config " + cfg.string() + " --input " + data);
    go = run("run " + example("route-filter-go") + " --wasi --isolation warm --hook filter --config " +
             cfg.string() + " --input " + data);
    ASSERT_EQ(c.status, 0) << c.stderr_text;
    ASSERT_EQ(go.status, 0) << go.stderr_text;
    EXPECT_GT(count_lines(go.stdout_text), 0u);
    EXPECT_TRUE(go.stdout_text == c.stdout_text) << "route-filter-go differs with config '" << level << "'";
  }
  auto loud = write("cfg", "loud");
  go = run("run " + example("route-filter-go") + " --wasi --hook filter --config " + loud.string() + " --input " +
           data);
  EXPECT_EQ(go.status, 2);
  EXPECT_NE(go.stderr_text.find("route-filter: config must be one of trace, debug, info, warn, error, fatal"),
            std::string::npos)
      << go.stderr_text;
  EXPECT_NE(go.stderr_text.find("wp_init rejected its config"), std::string::npos) << go.stderr_text;
}

TEST_F(Cli, GoPluginNeedsTheWasiFlag) {
  if (!WASMPLUG_HAVE_GO) {
    GTEST_SKIP() << "Go >= 1.24 not found at configure time";
  }
  Outcome o = run("run " + example("redact-go") + " --input " + std::string(WASMPLUG_SAMPLE_DATA));
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find("but the WASI capability set is off for this plugin (LoadOptions::wasi, CLI --wasi)"),
            std::string::npos)
      << o.stderr_text;
  EXPECT_TRUE(o.stdout_text.empty());
}

TEST_F(Cli, BenchReportsPercentilesAndThroughput) {
  Outcome o = run("bench " + redact() + " --seconds 0.3");
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  EXPECT_NE(o.stdout_text.find("isolation fresh, 1 thread(s)"), std::string::npos) << o.stdout_text;
  EXPECT_NE(o.stdout_text.find("calls/s, failed: 0"), std::string::npos) << o.stdout_text;
  EXPECT_NE(o.stdout_text.find("latency: p50 "), std::string::npos);
  EXPECT_NE(o.stdout_text.find(", p90 "), std::string::npos);
  EXPECT_NE(o.stdout_text.find(", max "), std::string::npos);

  o = run("bench " + redact() + " --isolation warm --threads 2 --seconds 0.3 --input " + WASMPLUG_SAMPLE_DATA);
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  EXPECT_NE(o.stdout_text.find("isolation warm, 2 thread(s), 3000 distinct record(s)"), std::string::npos)
      << o.stdout_text;

  auto input = write("in.txt", "Unreachable\n");
  o = run("bench " + guest("hostile") + " --seconds 0.2 --input " + input.string());
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.stderr_text.find("first failure: Trap"), std::string::npos) << o.stderr_text;
}

TEST_F(Cli, InspectReportsAndExitStatus) {
  Outcome good = run("inspect " + redact());
  EXPECT_EQ(good.status, 0);
  EXPECT_NE(good.stdout_text.find("admitted"), std::string::npos);
  EXPECT_NE(good.stdout_text.find("wp_transform  func (i32, i32) -> (i64)"), std::string::npos) << good.stdout_text;

  Outcome bad = run("inspect --json " + guest("missing_export"));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.stdout_text.find("\"admitted\":false"), std::string::npos) << bad.stdout_text;
  EXPECT_NE(bad.stdout_text.find("missing required export wp_alloc"), std::string::npos);

  auto text = write("text.wasm", "nope");
  Outcome garbage = run("inspect " + text.string());
  EXPECT_EQ(garbage.status, 1);
  EXPECT_NE(garbage.stderr_text.find("not a WebAssembly module"), std::string::npos);
}

// ---- A CLI process started without a shell: the test feeds its stdin, signals it and
// reads its peak RSS, with a watchdog so that a regression cannot hang or exhaust the
// machine. The peak is VmHWM of /proc/<pid>/status, read while the CLI sits idle on its
// input pipe: exact, and the CLI's own (wait4's ru_maxrss also counts the test process,
// whose memory a posix_spawn child shares until exec).

struct Exit {
  int code = -1;         ///< exit status; -1 when killed by a signal
  int signal = 0;        ///< the signal that killed it, 0 if it exited
  bool watchdog = false; ///< killed by the watchdog (too slow or too much memory)
};

pid_t spawn_cli(const std::vector<std::string>& args, int stdin_fd, const fs::path& out, const fs::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_strings{WASMPLUG_CLI};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, WASMPLUG_CLI, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// VmHWM: the peak RSS of the process since exec.
long hwm_kb_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

long rss_kb_of(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  long size = 0;
  long resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

Exit wait_for(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(120), long rss_limit_kb = 1L << 20) {
  Exit e;
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int raw = 0;
    pid_t done = waitpid(pid, &raw, WNOHANG);
    if (done == pid) {
      e.code = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
      e.signal = WIFSIGNALED(raw) ? WTERMSIG(raw) : 0;
      return e;
    }
    if (!e.watchdog && (std::chrono::steady_clock::now() > until || rss_kb_of(pid) > rss_limit_kb)) {
      e.watchdog = true;
      kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// "records in: N, out: N, dropped: N, failed: N[, not processed: N]" from the summary line.
struct Summary {
  bool found = false;
  std::uint64_t in = 0, out = 0, dropped = 0, failed = 0, not_processed = 0;
};

Summary parse_summary(const std::string& text) {
  static const std::regex re(
      R"(records in: (\d+), out: (\d+), dropped: (\d+), failed: (\d+)(, not processed: (\d+))?)");
  Summary s;
  std::smatch m;
  if (std::regex_search(text, m, re)) {
    s.found = true;
    s.in = std::stoull(m[1]);
    s.out = std::stoull(m[2]);
    s.dropped = std::stoull(m[3]);
    s.failed = std::stoull(m[4]);
    s.not_processed = m[6].matched ? std::stoull(m[6]) : 0;
  }
  return s;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Every line of `text` is whole: the text ends with '\n' (or is empty) and no line is cut.
void expect_whole_json_lines(const std::string& text) {
  ASSERT_TRUE(text.empty() || text.back() == '\n') << "output ends inside a record";
  std::istringstream lines(text);
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    ASSERT_TRUE(!line.empty() && line.front() == '{' && line.back() == '}') << "line " << n + 1 << ": " << line;
  }
}

class CliProcess : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    std::signal(SIGPIPE, SIG_IGN);  // a CLI that died must fail the test, not kill it
  }
  pid_t start(const std::vector<std::string>& args, int stdin_fd) {
    return spawn_cli(args, stdin_fd, dir_ / "stdout", dir_ / "stderr");
  }
  // The CLI on `args` with stdin from `stdin_path`, to completion.
  Exit finish(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null",
              long rss_limit_kb = 1L << 20) {
    int fd = ::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << stdin_path;
    pid_t pid = start(args, fd);
    ::close(fd);
    EXPECT_GT(pid, 0);
    return wait_for(pid, std::chrono::seconds(120), rss_limit_kb);
  }
  std::string err_text() { return slurp(dir_ / "stderr"); }

  // The CLI with its stdin on a pipe the test writes. The CLI flushes its output whenever it
  // waits for input, so `out` reaching `expected` means the CLI is idle: its VmHWM is then final.
  struct Fed {
    pid_t pid = -1;
    int fd = -1;  ///< write end of the CLI's stdin
  };
  Fed start_fed(const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    Fed fed{start(args, fds[0]), fds[1]};
    ::close(fds[0]);
    EXPECT_GT(fed.pid, 0);
    return fed;
  }
  // Peak RSS (KiB) once `out` holds `expected`; -1 if it never does.
  long idle_hwm_kb(const Fed& fed, const fs::path& out, const std::string& expected) {
    bool idle = eventually([&] { return slurp(out) == expected; });
    EXPECT_TRUE(idle) << "output so far: " << slurp(out).substr(0, 200) << "\nstderr: " << err_text().substr(0, 500);
    return idle ? hwm_kb_of(fed.pid) : -1;
  }
};

TEST_F(Cli, EveryWriteFailureIsAnErrorNamingTheFile) {
  auto input = write("in.txt", "first\nFail me\nthird\n");
  Outcome errors_full = run("run " + guest("hostile") + " --format lines --input " + input.string() +
                            " --errors /dev/full");
  EXPECT_EQ(errors_full.status, 2) << errors_full.stderr_text;
  EXPECT_NE(errors_full.stderr_text.find("cannot write /dev/full: No space left on device"), std::string::npos)
      << errors_full.stderr_text;

  Outcome output_full = run("run " + guest("echo") + " --format lines --input " + input.string() +
                            " --output /dev/full");
  EXPECT_EQ(output_full.status, 2) << output_full.stderr_text;
  EXPECT_NE(output_full.stderr_text.find("cannot write /dev/full: No space left on device"), std::string::npos)
      << output_full.stderr_text;

  // stdout and stderr themselves.
  std::string base = std::string(WASMPLUG_CLI) + " run " + guest("hostile") + " --format lines --input " +
                     input.string();
  int raw = std::system((base + " >/dev/full 2>" + (dir_ / "stderr").string()).c_str());
  EXPECT_EQ(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, 2);
  std::string text = slurp(dir_ / "stderr");
  EXPECT_NE(text.find("cannot write stdout: No space left on device"), std::string::npos) << text;
  raw = std::system((base + " --output " + (dir_ / "out.txt").string() + " 2>/dev/full").c_str());
  EXPECT_EQ(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, 2) << "a failed record reported to a full stderr";
}

TEST_F(Cli, BenchRefusesARecordOverTheInputLimit) {
  auto input = write("long.txt", "short\n" + std::string((2u << 20), 'x') + "\n");
  Outcome o = run("bench " + guest("echo") + " --seconds 0.1 --input " + input.string());
  EXPECT_EQ(o.status, 2) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("line 2 of " + input.string() +
                               " (2097152 bytes) is larger than the plugin's input limit of 1 MiB"),
            std::string::npos)
      << o.stderr_text.substr(0, 500);
}

TEST_F(CliProcess, SigintWhileWaitingOnAPipeKeepsEveryRecord) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  auto out = dir_ / "out.txt";
  pid_t pid = start({"run", guest("echo"), "--format", "lines", "--output", out.string(), "--errors",
                     (dir_ / "errors.jsonl").string()},
                    fds[0]);
  ::close(fds[0]);
  ASSERT_GT(pid, 0);
  std::string records;
  for (int i = 1; i <= 100; ++i) {
    records += "record " + std::to_string(i) + "\n";
  }
  records += "half a rec";  // the upstream is cut mid-line
  ASSERT_TRUE(write_all(fds[1], records.data(), records.size()));
  // Wait until the CLI has taken every byte out of the pipe (it then sits in poll).
  for (int i = 0; i < 12000; ++i) {
    int unread = 0;
    ASSERT_EQ(ioctl(fds[1], FIONREAD, &unread), 0);
    if (unread == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  Exit e = wait_for(pid);
  ::close(fds[1]);
  std::string err = err_text();
  EXPECT_EQ(e.signal, 0) << "killed by the signal instead of handling it";
  EXPECT_EQ(e.code, 130) << err;
  EXPECT_NE(err.find("interrupted by SIGINT"), std::string::npos) << err;
  Summary s = parse_summary(err);
  ASSERT_TRUE(s.found) << err;
  EXPECT_EQ(s.in, 101u) << "100 records and the cut-off line were read: " << err;
  EXPECT_EQ(s.in, s.out + s.dropped + s.failed + s.not_processed) << err;
  EXPECT_EQ(s.failed, 0u);
  std::string text = slurp(out);
  ASSERT_EQ(count_lines(text), s.out) << err;
  std::string expected;
  for (std::uint64_t i = 1; i <= s.out; ++i) {
    expected += "record " + std::to_string(i) + "\n";
  }
  EXPECT_EQ(text, expected);
}

TEST_F(CliProcess, SigtermMidRunFlushesWholeRecordsAndAccountsForTheRest) {
  // 300,000 records: seconds of work, so the signal lands mid-run.
  std::string sample = slurp(WASMPLUG_SAMPLE_DATA);
  auto input = dir_ / "big.jsonl";
  {
    std::ofstream big(input, std::ios::binary);
    for (int i = 0; i < 100; ++i) {
      big << sample;
    }
  }
  auto out = dir_ / "out.jsonl";
  auto errors = dir_ / "errors.jsonl";
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = start({"run", redact(), "--input", input.string(), "--output", out.string(), "--errors",
                     errors.string()},
                    null_fd);
  ::close(null_fd);
  ASSERT_GT(pid, 0);
  // Signal once the CLI is producing output.
  for (int i = 0; i < 12000; ++i) {
    std::error_code ec;
    if (fs::exists(out, ec) && fs::file_size(out, ec) > 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  Exit e = wait_for(pid);
  std::string err = err_text();
  EXPECT_EQ(e.signal, 0) << "killed by the signal instead of handling it";
  EXPECT_EQ(e.code, 143) << err;
  EXPECT_NE(err.find("interrupted by SIGTERM"), std::string::npos) << err;
  Summary s = parse_summary(err);
  ASSERT_TRUE(s.found) << err;
  EXPECT_EQ(s.in, s.out + s.dropped + s.failed + s.not_processed) << err;
  std::string text = slurp(out);
  EXPECT_EQ(count_lines(text), s.out) << err;
  expect_whole_json_lines(text);
  EXPECT_EQ(count_lines(slurp(errors)), s.failed);
}

TEST_F(CliProcess, OverlongLineIsALimitExceededRecordInBoundedMemory) {
  auto out = dir_ / "out.txt";
  auto errors = dir_ / "errors.jsonl";
  Fed fed = start_fed({"run", guest("echo"), "--format", "lines", "--output", out.string(), "--errors",
                       errors.string()});
  ASSERT_TRUE(write_all(fed.fd, "before\n", 7));
  const long baseline = idle_hwm_kb(fed, out, "before\n");
  std::string chunk(1 << 20, 'x');
  bool fed_all = true;
  for (int i = 0; i < 64 && fed_all; ++i) {  // one 64 MiB line
    fed_all = write_all(fed.fd, chunk.data(), chunk.size());
  }
  const std::string tail = "\nafter\nlast\n";
  fed_all = fed_all && write_all(fed.fd, tail.data(), tail.size());
  EXPECT_TRUE(fed_all) << "the CLI stopped reading";
  const long peak = idle_hwm_kb(fed, out, "before\nafter\nlast\n");
  ::close(fed.fd);
  Exit e = wait_for(fed.pid);
  EXPECT_EQ(e.code, 1) << err_text();
  EXPECT_EQ(slurp(out), "before\nafter\nlast\n");
  std::string failures = slurp(errors);
  EXPECT_EQ(count_lines(failures), 1u);
  EXPECT_NE(failures.find(R"({"line":2,"kind":"LimitExceeded","phase":"input")"), std::string::npos)
      << failures.substr(0, 500);
  EXPECT_NE(failures.find(R"("record_bytes":67108864)"), std::string::npos) << failures.substr(0, 500);
  EXPECT_LT(failures.size(), 4096u) << "the errors file keeps a bounded prefix, not the record";
  EXPECT_NE(err_text().find("records in: 4, out: 3, dropped: 0, failed: 1"), std::string::npos) << err_text();
  EXPECT_GT(baseline, 0);
  EXPECT_LT(peak - baseline, 16 * 1024) << "peak RSS " << peak << " KiB, before the long line " << baseline;
}

TEST_F(CliProcess, EndlessZerosOnStdinAreOneFailedRecordInBoundedMemory) {
  auto out = dir_ / "out.txt";
  auto errors = dir_ / "errors.jsonl";
  Fed fed = start_fed({"run", guest("echo"), "--output", out.string(), "--errors", errors.string()});
  const std::string first = "{\"first\":true}\n";
  ASSERT_TRUE(write_all(fed.fd, first.data(), first.size()));
  const long baseline = idle_hwm_kb(fed, out, first);
  std::vector<char> zeros(1 << 20, '\0');
  bool fed_all = true;
  for (int i = 0; i < 200 && fed_all; ++i) {  // 200 MiB, as `head -c 200M /dev/zero |` would
    fed_all = write_all(fed.fd, zeros.data(), zeros.size());
  }
  const std::string tail = "\n{\"after\":true}\n";
  fed_all = fed_all && write_all(fed.fd, tail.data(), tail.size());
  EXPECT_TRUE(fed_all) << "the CLI stopped reading";
  const long peak = idle_hwm_kb(fed, out, first + "{\"after\":true}\n");
  ::close(fed.fd);
  Exit e = wait_for(fed.pid);
  EXPECT_EQ(e.code, 1) << err_text();
  std::string failures = slurp(errors);
  EXPECT_EQ(count_lines(failures), 1u);
  EXPECT_NE(failures.find(R"({"line":2,"kind":"LimitExceeded","phase":"input")"), std::string::npos)
      << failures.substr(0, 500);
  EXPECT_NE(failures.find(R"("record_bytes":209715200)"), std::string::npos) << failures.substr(0, 500);
  EXPECT_GT(baseline, 0);
  EXPECT_LT(peak - baseline, 16 * 1024) << "peak RSS " << peak << " KiB, before the zeros " << baseline;
}

TEST_F(CliProcess, ConfigAndModuleFilesAreReadBoundedAndSayWhyTheyFail) {
  // Memory: the watchdog kills a CLI past 512 MiB RSS (an unbounded read of /dev/zero gets
  // there in about a second); the bounded reads stop at 1 MiB and 32 MiB.
  // --config: at most 1 MiB, never read to the end of an endless file.
  Exit e = finish({"run", example("route-filter"), "--hook", "filter", "--config", "/dev/zero"}, "/dev/null",
                  512L << 10);
  EXPECT_FALSE(e.watchdog) << "read /dev/zero without bound";
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(err_text().find("config file /dev/zero is larger than 1 MiB"), std::string::npos) << err_text();

  auto big_config = write("big.cfg", std::string((1u << 20) + 1, 'e'));
  e = finish({"run", example("route-filter"), "--hook", "filter", "--config", big_config.string()});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(err_text().find("is larger than 1 MiB"), std::string::npos) << err_text();

  e = finish({"run", example("route-filter"), "--hook", "filter", "--config", dir_.string()});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(err_text().find("cannot read config file " + dir_.string() + ": Is a directory"), std::string::npos)
      << err_text();

  // inspect: at most RuntimeConfig::max_module_bytes (32 MiB).
  e = finish({"inspect", "/dev/zero"}, "/dev/null", 512L << 10);
  EXPECT_FALSE(e.watchdog) << "read /dev/zero without bound";
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(err_text().find("/dev/zero is larger than the module limit of 32 MiB"), std::string::npos)
      << err_text();

  auto sparse = dir_ / "huge.wasm";
  {
    std::ofstream touch(sparse);
  }
  fs::resize_file(sparse, std::uintmax_t{1} << 32);  // 4 GiB, refused by its size before reading
  e = finish({"inspect", sparse.string()}, "/dev/null", 512L << 10);
  EXPECT_FALSE(e.watchdog);
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(err_text().find("huge.wasm is larger than the module limit of 32 MiB"), std::string::npos)
      << err_text();

  e = finish({"inspect", dir_.string()});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(err_text().find("cannot read " + dir_.string() + ": Is a directory"), std::string::npos)
      << err_text();
}

}  // namespace

// The compiled-code cache is on by default under $XDG_CACHE_HOME (or
// ~/.cache), --cache-dir moves it, --no-cache turns it off.
TEST_F(Cli, CompiledCodeCacheDefaultsAndFlags) {
  auto input = write("in.txt", "a\n");
  auto entries = [](const fs::path& d) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      n += e.path().extension() == ".cwasm" ? 1 : 0;
    }
    return n;
  };
  auto run_with = [&](const std::string& env, const std::string& flags) {
    std::string cmd = env + " " + WASMPLUG_CLI + " run " + guest("echo") + " --format lines --input " +
                      input.string() + " --output " + (dir_ / "out.txt").string() + " " + flags + " 2>" +
                      (dir_ / "stderr").string();
    const int raw = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(raw) && WEXITSTATUS(raw) == 0) << slurp(dir_ / "stderr");
    EXPECT_EQ(slurp(dir_ / "out.txt"), "a\n");
  };
  run_with("XDG_CACHE_HOME=" + (dir_ / "xdg").string(), "");
  EXPECT_EQ(entries(dir_ / "xdg" / "wasmplug" / "modules"), 1u);
  run_with("env -u XDG_CACHE_HOME HOME=" + (dir_ / "home").string(), "");
  EXPECT_EQ(entries(dir_ / "home" / ".cache" / "wasmplug" / "modules"), 1u);
  run_with("XDG_CACHE_HOME=" + (dir_ / "xdg2").string(), "--cache-dir " + (dir_ / "mine").string());
  EXPECT_EQ(entries(dir_ / "mine"), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "xdg2"));
  run_with("XDG_CACHE_HOME=" + (dir_ / "xdg3").string(), "--no-cache");
  EXPECT_FALSE(fs::exists(dir_ / "xdg3"));
  // An unusable cache directory is one warning, not a failure.
  write("file", "x");
  run_with("", "--cache-dir " + (dir_ / "file" / "sub").string());
  EXPECT_NE(slurp(dir_ / "stderr").find("compiled-code cache"), std::string::npos);
}

// Several processes filling one cache directory at once: every run succeeds
// without a cache warning, one complete entry remains, no temp file.
TEST_F(Cli, ConcurrentProcessesShareOneCompiledCodeCache) {
  auto input = write("in.txt", "a\nb\n");
  const fs::path cache = dir_ / "cache";
  std::string script = "for i in 1 2 3 4 5 6; do " + std::string(WASMPLUG_CLI) + " run " + guest("echo") +
                       " --format lines --input " + input.string() + " --output " + (dir_ / "out").string() +
                       "$i --cache-dir " + cache.string() + " 2>" + (dir_ / "err").string() + "$i & done; wait";
  ASSERT_EQ(std::system(("sh -c '" + script + "'").c_str()), 0);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_EQ(slurp(dir_ / ("out" + std::to_string(i))), "a\nb\n") << i;
    EXPECT_EQ(slurp(dir_ / ("err" + std::to_string(i))).find("compiled-code cache"), std::string::npos)
        << slurp(dir_ / ("err" + std::to_string(i)));
  }
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(cache)) {
    const std::string name = e.path().filename().string();
    EXPECT_FALSE(name.starts_with(".tmp-")) << name;
    entries += e.path().extension() == ".cwasm" ? 1 : 0;
  }
  EXPECT_EQ(entries, 1u);
}
