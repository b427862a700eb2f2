// End-to-end tests of the wasmplug CLI: the real binary on real files.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace
