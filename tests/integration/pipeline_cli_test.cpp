// `wasmplug pipeline` as users run it: the real binary, real signals, the
// summary on stderr and the files it wrote.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "cli_process.hpp"

namespace fs = std::filesystem;
using wasmplug::test::slurp;

namespace {

std::size_t count_lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

std::uint64_t json_number(const std::string& text, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\"" + key + "\":(\\d+)"))) {
    return ~0ull;
  }
  return std::stoull(m[1]);
}

class PipelineCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wasmplug_pipeline_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  // Starts the CLI with stdin from `in_fd`, stderr into dir_/stderr.
  pid_t start(const std::vector<std::string>& args, int in_fd) {
    const std::string err = (dir_ / "stderr").string();
    pid_t pid = fork();
    if (pid == 0) {
      dup2(in_fd, STDIN_FILENO);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(e, STDERR_FILENO);
      std::vector<char*> argv{const_cast<char*>(WASMPLUG_CLI)};
      for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
      }
      argv.push_back(nullptr);
      execv(WASMPLUG_CLI, argv.data());
      _exit(127);
    }
    return pid;
  }

  fs::path dir_;
};

}  // namespace

TEST_F(PipelineCli, RunsTheFileAndReportsEveryStage) {
  write("in.txt", "alpha\nfail\nbeta\n");
  write("p.toml", "[pipeline]\ndead_letter = \"dead.jsonl\"\n[source]\npath = \"in.txt\"\n"
                  "[[processor]]\nname = \"upper\"\npath = \"" + std::string(WASMPLUG_GUEST_DIR) +
                  "/guest_upper.wasm\"\n[sink]\npath = \"out.txt\"\n");
  auto o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline run --no-cache --json " + (dir_ / "p.toml").string(), dir_);
  EXPECT_EQ(o.status, 1) << o.stderr_text;  // one record failed
  EXPECT_EQ(slurp(dir_ / "out.txt"), "ALPHA\nBETA\n");
  EXPECT_EQ(count_lines(slurp(dir_ / "dead.jsonl")), 1u);
  EXPECT_NE(o.stderr_text.find("\"records_in\":3,\"out\":2,\"dropped\":0,\"failed\":1"), std::string::npos)
      << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("{\"name\":\"upper\",\"type\":\"plugin:native\",\"in\":3,\"out\":2,\"dropped\":0,"
                               "\"failed\":1"),
            std::string::npos)
      << o.stderr_text;
}

TEST_F(PipelineCli, BadFilesAreNamedWithLineAndKey) {
  write("p.toml", "[source]\npath = \"in.txt\"\nbatch = 3\n[sink]\npath = \"out.txt\"\n");
  auto o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline check " + (dir_ / "p.toml").string(), dir_);
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find((dir_ / "p.toml").string() + ":3: [source] key 'batch' is unknown"),
            std::string::npos)
      << o.stderr_text;
  o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline run " + (dir_ / "none.toml").string(), dir_);
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find("none.toml: No such file or directory"), std::string::npos) << o.stderr_text;
  write("q.toml", "[source]\npath = \"in.txt\"\n[[processor]]\npath = \"nope.wasm\"\n[sink]\npath = \"out.txt\"\n");
  o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline run --dry-run " + (dir_ / "q.toml").string(), dir_);
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find("q.toml:3: processor 'nope'"), std::string::npos) << o.stderr_text;
  EXPECT_FALSE(fs::exists(dir_ / "out.txt")) << "a dry run opens no sink";
}

// SIGTERM and SIGINT: the source (stdin, a pipe kept open) stops, everything
// read is drained, the exit status is 128 + signo, and output + dead-letter
// lines account for every record the summary says came in.
class PipelineCliSignal : public PipelineCli, public ::testing::WithParamInterface<int> {};

TEST_P(PipelineCliSignal, StopsTheSourceDrainsAndAccountsForEveryRecord) {
  const int signo = GetParam();
  write("p.toml", "[pipeline]\ndead_letter = \"dead.jsonl\"\nbatch_records = 32\n[source]\ntype = \"stdin\"\n"
                  "[[processor]]\nname = \"upper\"\npath = \"" + std::string(WASMPLUG_GUEST_DIR) +
                  "/guest_upper.wasm\"\n[sink]\npath = \"out.txt\"\n");
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = start({"pipeline", "run", "--no-cache", "--json", (dir_ / "p.toml").string()}, fds[0]);
  ::close(fds[0]);
  ASSERT_GT(pid, 0);
  // Keep writing until output appears, then signal with the pipe still open.
  std::uint64_t written = 0;
  std::string chunk;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    chunk.clear();
    for (int i = 0; i < 100; ++i) {
      ++written;
      chunk += written % 50 == 0 ? "fail\n" : "record " + std::to_string(written) + "\n";
    }
    ASSERT_EQ(::write(fds[1], chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
    if (fs::exists(dir_ / "out.txt") && fs::file_size(dir_ / "out.txt") > 0 && written >= 1000) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(kill(pid, signo), 0);
  int raw = 0;
  ASSERT_EQ(waitpid(pid, &raw, 0), pid);
  ::close(fds[1]);
  const std::string err = slurp(dir_ / "stderr");
  ASSERT_TRUE(WIFEXITED(raw)) << "killed by the signal instead of handling it\n" << err;
  EXPECT_EQ(WEXITSTATUS(raw), 128 + signo) << err;
  const std::uint64_t in = json_number(err, "records_in");
  const std::uint64_t out = json_number(err, "out");
  const std::uint64_t failed = json_number(err, "failed");
  const std::uint64_t dropped = json_number(err, "dropped");
  ASSERT_NE(in, ~0ull) << err;
  EXPECT_GT(in, 0u);
  EXPECT_LE(in, written);
  EXPECT_EQ(in, out + dropped + failed) << err;
  const std::string text = slurp(dir_ / "out.txt");
  EXPECT_EQ(count_lines(text), out);
  EXPECT_EQ(count_lines(slurp(dir_ / "dead.jsonl")), failed);
  EXPECT_EQ(failed, in / 50) << "every 50th record is 'fail'";
  // In input order, upper-cased, nothing skipped.
  std::stringstream ss(text);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(ss, line)) {
    ++n;
    if (n % 50 == 0) {
      ++n;
    }
    ASSERT_EQ(line, "RECORD " + std::to_string(n));
  }
}

INSTANTIATE_TEST_SUITE_P(Signals, PipelineCliSignal, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return std::string(p.param == SIGINT ? "Sigint" : "Sigterm");
                         });
