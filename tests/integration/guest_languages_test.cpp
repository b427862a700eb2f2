// The example plugins written in Rust (sdk/rust) and AssemblyScript
// (sdk/assemblyscript), end to end through the CLI: the same input as the C
// versions and the same output, byte for byte (the C version is the oracle,
// and a few lines are also checked against literal expectations).
#include <gtest/gtest.h>

#include "cli_process.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using wasmplug::test::Outcome;
using wasmplug::test::slurp;

std::vector<std::string> languages() {
  std::vector<std::string> langs;
  if (WASMPLUG_HAVE_RUST_GUESTS) langs.emplace_back("rust");
  if (WASMPLUG_HAVE_AS_GUESTS) langs.emplace_back("assemblyscript");
  if (WASMPLUG_HAVE_GO) langs.emplace_back("go");
  return langs;
}

// Lines a redactor must get exactly right: cards with spaces and dashes, too
// short and too long digit runs, e-mails at string edges and before a
// trailing dot, keys that look like e-mails, escapes, non-ASCII bytes, and a
// line with an unterminated string (passed through).
constexpr const char* kRedactEdges =
    R"({"user":"ann@example.com","card":"4111 1111 1111 1111"})"
    "\n"
    R"({"a":"4111-1111-1111-1111","b":"411111111111","c":"41111111111111111111","d":"x4111111111111111"})"
    "\n"
    R"({"bob@example.com":"see bob@example.com.","q":"a\"b@c.de\\ 5555 5555 5555 4444 end"})"
    "\n"
    R"({"n":12345678901234567,"s":"é ü 4000 0566 5566 5556 — ok","t":["x@y.io","not@mail","a@b.c"]})"
    "\n"
    R"({"k" :"tab@key.org" , "v": "trail.@x.com"})"
    "\n"
    "plain text 4111111111111111 and a@b.com\n"
    R"({"open":"4111 1111 1111 1111)"
    "\n";

constexpr const char* kRedactEdgesExpected =
    R"({"user":"[email]","card":"************1111"})"
    "\n"
    R"({"a":"************1111","b":"411111111111","c":"41111111111111111111","d":"x4111111111111111"})"
    "\n";

class GuestLanguages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (languages().empty()) {
      GTEST_SKIP() << "no guest language besides C was built (WASMPLUG_GUEST_LANGS is empty)";
    }
    dir_ = fs::temp_directory_path() /
           ("wasmplug_lang_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `run` gets a 10 s deadline: these tests compare outputs, and on a loaded
  // machine a fresh call can miss the default 50 ms.
  Outcome run(const std::string& args) {
    std::string deadline = args.rfind("run ", 0) == 0 ? " --deadline-ms 10000" : "";
    return wasmplug::test::run_cli(WASMPLUG_CLI, args + deadline, dir_);
  }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  // The example's module and the flags its language needs: Go's runtime
  // imports WASI (clocks, random, stdout), so its plugins run with --wasi.
  static std::string example(const std::string& name, const std::string& lang = "") {
    return std::string(WASMPLUG_EXAMPLE_DIR) + "/" + name + (lang.empty() ? "" : "-" + lang) + ".wasm" +
           (lang == "go" ? " --wasi" : "");
  }

  fs::path dir_;
};

TEST_F(GuestLanguages, RedactMatchesTheCVersionOnTheSampleData) {
  for (const char* isolation : {"fresh", "warm"}) {
    Outcome c = run("run " + example("redact") + " --isolation " + isolation + " --input " + WASMPLUG_SAMPLE_DATA);
    ASSERT_EQ(c.status, 0) << c.stderr_text;
    ASSERT_NE(c.stdout_text.find("\"card\":\"************"), std::string::npos) << "the oracle redacts nothing";
    for (const auto& lang : languages()) {
      SCOPED_TRACE(lang + ", isolation " + isolation);
      Outcome o = run("run " + example("redact", lang) + " --isolation " + isolation + " --input " +
                      WASMPLUG_SAMPLE_DATA);
      EXPECT_EQ(o.status, 0) << o.stderr_text;
      EXPECT_NE(o.stderr_text.find("records in: 3000, out: 3000, dropped: 0, failed: 0"), std::string::npos)
          << o.stderr_text;
      EXPECT_TRUE(o.stdout_text == c.stdout_text) << "output differs from the C version";
    }
  }
}

TEST_F(GuestLanguages, RedactMatchesTheCVersionOnEdgeCases) {
  auto input = write("edges.txt", kRedactEdges);
  Outcome c = run("run " + example("redact") + " --format lines --input " + input.string());
  ASSERT_EQ(c.status, 0) << c.stderr_text;
  ASSERT_EQ(c.stdout_text.rfind(kRedactEdgesExpected, 0), 0u) << c.stdout_text;
  for (const auto& lang : languages()) {
    SCOPED_TRACE(lang);
    Outcome o = run("run " + example("redact", lang) + " --format lines --input " + input.string());
    EXPECT_EQ(o.status, 0) << o.stderr_text;
    EXPECT_EQ(o.stdout_text, c.stdout_text);
  }
}

TEST_F(GuestLanguages, RouteFilterMatchesTheCVersionAtEveryLevel) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "fatal"}) {
    auto cfg = write("cfg", std::string(level) + "\n");
    Outcome c = run("run " + example("route-filter") + " --hook filter --config " + cfg.string() + " --input " +
                    WASMPLUG_SAMPLE_DATA);
    ASSERT_EQ(c.status, 0) << c.stderr_text;
    for (const auto& lang : languages()) {
      SCOPED_TRACE(lang + ", level " + level);
      Outcome o = run("run " + example("route-filter", lang) + " --hook filter --config " + cfg.string() +
                      " --input " + WASMPLUG_SAMPLE_DATA);
      EXPECT_EQ(o.status, 0) << o.stderr_text;
      EXPECT_TRUE(o.stdout_text == c.stdout_text) << "kept records differ from the C version";
      // The counts, not the timing after the ';'.
      auto summary = [](const std::string& err) {
        auto from = err.find("records in:");
        return from == std::string::npos ? err : err.substr(from, err.find(';', from) - from);
      };
      EXPECT_EQ(summary(o.stderr_text), summary(c.stderr_text));
    }
  }
}

TEST_F(GuestLanguages, RouteFilterEdgeCasesAndErrorsMatchTheCVersion) {
  auto input = write("in.jsonl",
                     R"({"level":"error","msg":"x"})"
                     "\n"
                     R"({"msg":"has \"level\":\"fatal\" in a string","level":"warn"})"
                     "\n"
                     R"({"level":"info"})"
                     "\n"
                     R"({"nested":{"level":"error"}})"
                     "\n"
                     R"({"level":7})"
                     "\n"
                     "[1,2]\n"
                     R"({ "level" : "fatal" })"
                     "\n"
                     R"({"level":"w\u0061rn","n":1})"
                     "\n"
                     R"({"level":"info","level":"error"})"
                     "\n"
                     R"({"level":"\u00e9rror"})"
                     "\n"
                     R"({"level":"warning"})"
                     "\n");
  auto cfg = write("cfg", "warn");
  auto errors = dir_ / "errors.jsonl";
  std::string args = " --hook filter --config " + cfg.string() + " --input " + input.string() + " --errors " +
                     errors.string();
  Outcome c = run("run " + example("route-filter") + args);
  ASSERT_EQ(c.status, 1) << c.stderr_text;
  const std::string c_errors = slurp(errors);
  ASSERT_EQ(c.stdout_text,
            R"({"level":"error","msg":"x"})"
            "\n"
            R"({"msg":"has \"level\":\"fatal\" in a string","level":"warn"})"
            "\n"
            R"({ "level" : "fatal" })"
            "\n"
            R"({"level":"w\u0061rn","n":1})"
            "\n");
  ASSERT_NE(c_errors.find(R"({"line":6,"kind":"GuestError","phase":"call","message":"route-filter: the record is not a JSON object")"),
            std::string::npos)
      << c_errors;

  auto loud = write("loud", "loud");
  for (const auto& lang : languages()) {
    SCOPED_TRACE(lang);
    Outcome o = run("run " + example("route-filter", lang) + args);
    EXPECT_EQ(o.status, 1) << o.stderr_text;
    EXPECT_EQ(o.stdout_text, c.stdout_text);
    EXPECT_EQ(slurp(errors), c_errors);

    Outcome rejected = run("run " + example("route-filter", lang) + " --hook filter --config " + loud.string() +
                           " --input " + input.string());
    EXPECT_EQ(rejected.status, 2);
    EXPECT_NE(rejected.stderr_text.find("wp_init rejected its config"), std::string::npos) << rejected.stderr_text;
    EXPECT_NE(rejected.stderr_text.find("config must be one of trace, debug, info, warn, error, fatal"),
              std::string::npos)
        << rejected.stderr_text;
    EXPECT_TRUE(rejected.stdout_text.empty());
  }
}

TEST_F(GuestLanguages, ModulesAreAdmittedWithOnlyTheNativeImports) {
  for (const auto& lang : languages()) {
    if (lang == "go") {
      continue;  // needs WASI by design: Cli.GoPluginNeedsTheWasiFlag
    }
    for (const char* name : {"redact", "route-filter"}) {
      SCOPED_TRACE(lang + " " + name);
      Outcome o = run("inspect " + example(name, lang));
      EXPECT_EQ(o.status, 0) << o.stdout_text << o.stderr_text;
      EXPECT_NE(o.stdout_text.find("admitted"), std::string::npos) << o.stdout_text;
      EXPECT_EQ(o.stdout_text.find("wasi_snapshot_preview1"), std::string::npos) << o.stdout_text;
      EXPECT_EQ(o.stdout_text.find("env."), std::string::npos) << o.stdout_text;
    }
  }
}

}  // namespace
