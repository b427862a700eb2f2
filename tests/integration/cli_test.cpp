// End-to-end tests of the wasmplug CLI: the real binary on real files.
#include <gtest/gtest.h>

#include "cli_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

using wasmplug::test::Outcome;
using wasmplug::test::slurp;

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
    return wasmplug::test::run_cli(WASMPLUG_CLI, args, dir_);
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
  // Refused by admission: the chosen hook is a required export.
  EXPECT_NE(no_hook.stderr_text.find("Rejected in admit"), std::string::npos) << no_hook.stderr_text;
  EXPECT_NE(no_hook.stderr_text.find("missing export wp_filter (i32, i32) -> (i32): the host requires the filter hook"),
            std::string::npos)
      << no_hook.stderr_text;
  EXPECT_EQ(count_lines(no_hook.stderr_text), 1u) << no_hook.stderr_text;

  Outcome missing_input = run("run " + redact() + " --input " + (dir_ / "none.jsonl").string());
  EXPECT_EQ(missing_input.status, 2);
  EXPECT_NE(missing_input.stderr_text.find("cannot read input"), std::string::npos);
}

TEST_F(Cli, WarmIsolationKeepsPluginState) {
  auto cfg = write("cfg", "every=1000");
  // One worker: the count lives in the one instance it leases.
  Outcome o = run("run " + example("count") + " --hook observe --isolation warm --threads 1 --config " +
                  cfg.string() + " --input " + WASMPLUG_SAMPLE_DATA);
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


// ---- Profiles, threads, JSON output, version and help (issue 11).

std::string sha256_of(const fs::path& file) {
  std::string cmd = "sha256sum '" + file.string() + "' > '" + file.string() + ".sum'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return slurp(file.string() + ".sum").substr(0, 64);
}

TEST_F(Cli, CcLbAndRustcdcRunWithTheirHookNames) {
  auto input = write("in.txt", "shape me\nand me\n");
  Outcome shaped = run("run " + guest("cc_lb_upper") + " --abi cc-lb --hook shape --format lines --input " +
                       input.string());
  EXPECT_EQ(shaped.status, 0) << shaped.stderr_text;
  EXPECT_EQ(shaped.stdout_text, "SHAPE ME\nAND ME\n");

  // The hook is stated at load: admission names the missing export, before any record.
  Outcome filter = run("run " + guest("cc_lb_upper") + " --abi cc-lb --hook filter --format lines --input " +
                       input.string());
  EXPECT_EQ(filter.status, 2);
  EXPECT_NE(filter.stderr_text.find("Rejected in admit"), std::string::npos) << filter.stderr_text;
  EXPECT_NE(filter.stderr_text.find("missing export cc_lb_filter (i32, i32) -> (i64): the host requires the filter "
                                    "hook"),
            std::string::npos)
      << filter.stderr_text;
  EXPECT_TRUE(filter.stdout_text.empty());

  Outcome wrong = run("run " + guest("cc_lb_upper") + " --abi cc-lb --hook transform --input " + input.string());
  EXPECT_EQ(wrong.status, 2);
  EXPECT_EQ(wrong.stderr_text, "wasmplug: the cc-lb profile has no 'transform' hook (filter, shape, observe)\n");

  // Without --abi the native contract applies, and says what is missing.
  Outcome native = run("run " + guest("cc_lb_upper") + " --format lines --input " + input.string());
  EXPECT_EQ(native.status, 2);
  EXPECT_NE(native.stderr_text.find("missing required export wp_alloc"), std::string::npos) << native.stderr_text;

  auto events = write("events.jsonl", "{\"op\":\"c\",\"id\":1}\n{\"op\":\"d\",\"id\":2}\n{\"poison\":true}\n");
  auto cfg = write("tag.cfg", "blue");
  Outcome cdc = run("run " + guest("rustcdc_tag") + " --abi rustcdc --config " + cfg.string() + " --input " +
                    events.string() + " --errors " + (dir_ / "errors.jsonl").string());
  EXPECT_EQ(cdc.status, 1) << cdc.stderr_text;
  EXPECT_EQ(cdc.stdout_text, "{\"op\":\"c\",\"id\":1,\"tagged\":\"blue\"}\n");
  EXPECT_NE(cdc.stderr_text.find("records in: 3, out: 1, dropped: 1, failed: 1"), std::string::npos)
      << cdc.stderr_text;
  EXPECT_NE(slurp(dir_ / "errors.jsonl").find(R"({"line":3,"kind":"GuestError")"), std::string::npos)
      << slurp(dir_ / "errors.jsonl");
}

TEST_F(Cli, KestrelEvaluatesJsonEventsThroughASchema) {
  auto schema = write("schema.json", R"({"process.path": {"id": 1, "type": "string"}, "process.pid": {"id": 2, "type": "i64"}})");
  auto events = write("events.jsonl",
                      "{\"process\":{\"path\":\"/bin/bash\",\"pid\":4242}}\n"
                      "{\"process.path\":\"/bin/sh\",\"process.pid\":5000}\n"
                      "{\"process\":{\"path\":\"/usr/bin/bash\",\"pid\":12},\"extra\":[1]}\n"
                      "{\"process\":{\"pid\":\"x\"}}\n"
                      "[1]\n");
  auto alerts = dir_ / "alerts.jsonl";
  auto errors = dir_ / "errors.jsonl";
  Outcome o = run("run " + guest("kestrel_bash") + " --abi kestrel --hook eval --schema " + schema.string() +
                  " --input " + events.string() + " --alerts " + alerts.string() + " --errors " + errors.string());
  EXPECT_EQ(o.status, 1) << o.stderr_text;
  EXPECT_EQ(o.stdout_text, "{\"process\":{\"path\":\"/bin/bash\",\"pid\":4242}}\n");  // the one match
  EXPECT_EQ(slurp(alerts), "{\"line\":1,\"rule\":\"guest_kestrel_bash.wasm\",\"code\":7}\n");
  EXPECT_EQ(slurp(errors),
            "{\"line\":4,\"kind\":\"InvalidInput\",\"phase\":\"input\",\"message\":\"field \\\"process.pid\\\" is a "
            "string; the schema says i64\",\"record\":\"{\\\"process\\\":{\\\"pid\\\":\\\"x\\\"}}\"}\n"
            "{\"line\":5,\"kind\":\"InvalidInput\",\"phase\":\"input\",\"message\":\"an event must be a JSON object, "
            "found an array\",\"record\":\"[1]\"}\n");
  EXPECT_NE(o.stderr_text.find("records in: 5, out: 1, dropped: 2, failed: 2, alerts: 1"), std::string::npos)
      << o.stderr_text;

  Outcome bench = run("bench " + guest("kestrel_bash") + " --abi kestrel --schema " + schema.string() +
                      " --seconds 0.2 --json --input " + events.string());
  EXPECT_EQ(bench.status, 1) << "two of the events are invalid: " << bench.stderr_text;
  EXPECT_NE(bench.stdout_text.find(R"("abi":"kestrel","hook":"eval","isolation":"warm")"), std::string::npos)
      << bench.stdout_text;

  Outcome no_schema = run("run " + guest("kestrel_bash") + " --abi kestrel --input " + events.string());
  EXPECT_EQ(no_schema.status, 2);
  EXPECT_EQ(no_schema.stderr_text,
            "wasmplug: the kestrel profile needs --schema: a JSON file mapping event field names to ids and types\n");
  Outcome missing = run("run " + guest("kestrel_bash") + " --abi kestrel --schema " + (dir_ / "none.json").string() +
                        " --input " + events.string());
  EXPECT_EQ(missing.status, 2);
  EXPECT_EQ(missing.stderr_text,
            "wasmplug: cannot read schema file " + (dir_ / "none.json").string() + ": No such file or directory\n");
  auto bad = write("bad.json", R"({"a": {"id": 1, "type": "int"}})");
  Outcome bad_type = run("run " + guest("kestrel_bash") + " --abi kestrel --schema " + bad.string() + " --input " +
                         events.string());
  EXPECT_EQ(bad_type.status, 2);
  EXPECT_EQ(bad_type.stderr_text, "wasmplug: schema file " + bad.string() +
                                      ": field \"a\": \"type\" must be one of i64, u64, f64, bool, string\n");
  Outcome schema_elsewhere = run("run " + redact() + " --schema " + schema.string() + " --input /dev/null");
  EXPECT_EQ(schema_elsewhere.status, 2);
  EXPECT_EQ(schema_elsewhere.stderr_text,
            "wasmplug: --schema describes Kestrel events; the native profile does not take one\n");
  Outcome fresh = run("run " + guest("kestrel_bash") + " --abi kestrel --isolation fresh --schema " +
                      schema.string() + " --input /dev/null");
  EXPECT_EQ(fresh.status, 2);
  EXPECT_NE(fresh.stderr_text.find("--isolation fresh is not available"), std::string::npos) << fresh.stderr_text;
}

TEST_F(Cli, InspectGuessesTheProfileAndSaysWhy) {
  Outcome cc = run("inspect " + guest("cc_lb_upper"));
  EXPECT_EQ(cc.status, 0) << cc.stdout_text << cc.stderr_text;
  EXPECT_NE(cc.stdout_text.find("  abi:          cc-lb (guessed: 3 mark(s) of the cc-lb profile: export cc_lb_alloc, "
                                "export cc_lb_free, export cc_lb_shape)\n  hooks:        shape\n"),
            std::string::npos)
      << cc.stdout_text;
  Outcome cc_json = run("inspect --json " + guest("cc_lb_upper"));
  EXPECT_EQ(cc_json.status, 0);
  EXPECT_NE(cc_json.stdout_text.find(R"({"admitted":true,"abi":"cc-lb","abi_source":"guessed","abi_reason":"3 mark(s) of the cc-lb profile: export cc_lb_alloc, export cc_lb_free, export cc_lb_shape","abi_version":null,"hooks":["shape"])"),
            std::string::npos)
      << cc_json.stdout_text;

  Outcome kestrel = run("inspect --json " + guest("kestrel_bash"));
  EXPECT_EQ(kestrel.status, 0);
  EXPECT_NE(kestrel.stdout_text.find(R"("abi":"kestrel","abi_source":"guessed","abi_reason":"5 mark(s) of the kestrel profile: export pred_eval, import env.event_get_i64, import env.event_get_str, import env.string_ends_with, import env.alert_emit")"),
            std::string::npos)
      << kestrel.stdout_text;
  EXPECT_NE(kestrel.stdout_text.find(R"("hooks":["eval"])"), std::string::npos);

  Outcome cdc = run("inspect " + guest("rustcdc_tag"));
  EXPECT_EQ(cdc.status, 0);
  EXPECT_NE(cdc.stdout_text.find("  abi:          rustcdc (guessed: 6 mark(s) of the rustcdc profile:"),
            std::string::npos)
      << cdc.stdout_text;

  Outcome native = run("inspect " + redact());
  EXPECT_EQ(native.status, 0);
  EXPECT_NE(native.stdout_text.find("  abi:          native v1 (guessed: "), std::string::npos) << native.stdout_text;

  // Given, not guessed: a cc-lb module under the native contract is rejected.
  Outcome given = run("inspect --abi native " + guest("cc_lb_upper"));
  EXPECT_EQ(given.status, 1);
  EXPECT_NE(given.stdout_text.find("REJECTED\n  abi:          native (given: --abi native)\n"), std::string::npos)
      << given.stdout_text;
  Outcome given_json = run("inspect --json --abi cc-lb " + guest("cc_lb_upper"));
  EXPECT_NE(given_json.stdout_text.find(R"("abi_source":"given","abi_reason":"--abi cc-lb")"), std::string::npos)
      << given_json.stdout_text;

  auto nothing = write("empty.wasm", std::string("\0asm\1\0\0\0", 8));
  Outcome bare = run("inspect --json " + nothing.string());
  EXPECT_EQ(bare.status, 1);
  EXPECT_NE(bare.stdout_text.find(
                R"("abi":"native","abi_source":"guessed","abi_reason":"no export or import typical of any profile; native by default")"),
            std::string::npos)
      << bare.stdout_text;
}

TEST_F(Cli, ManyThreadsWriteExactlyWhatOneThreadWrites) {
  // 12,000 records; every 7th fails in the guest, every 11th traps, every 13th is blank.
  std::string text;
  for (int i = 1; i <= 12'000; ++i) {
    if (i % 13 == 0) {
      text += "\n";
    } else if (i % 11 == 0) {
      text += "Unreachable " + std::to_string(i) + "\n";
    } else if (i % 7 == 0) {
      text += "Fail me " + std::to_string(i) + "\n";
    } else {
      text += "record " + std::to_string(i) + "\n";
    }
  }
  auto input = write("in.txt", text);
  std::string outputs[3];
  std::string errors[3];
  const char* threads[] = {"1", "2", "4"};
  for (int t = 0; t < 3; ++t) {
    auto out = dir_ / ("out" + std::to_string(t));
    auto err = dir_ / ("err" + std::to_string(t));
    Outcome o = run("run " + guest("hostile") + " --format lines --deadline-ms 10000 --threads " + threads[t] + " --input " +
                    input.string() + " --output " + out.string() + " --errors " + err.string());
    EXPECT_EQ(o.status, 1) << o.stderr_text;
    outputs[t] = slurp(out);
    errors[t] = slurp(err);
    EXPECT_NE(o.stderr_text.find("records in: 11077, out: 8631, dropped: 0, failed: 2446, blank lines skipped: 923"),
              std::string::npos)
        << threads[t] << " threads: " << o.stderr_text;
  }
  EXPECT_EQ(count_lines(outputs[0]), 8631u);
  EXPECT_EQ(outputs[0].substr(0, 27), "record 1\nrecord 2\nrecord 3\n");
  EXPECT_TRUE(outputs[1] == outputs[0]) << "2 threads changed the output";
  EXPECT_TRUE(outputs[2] == outputs[0]) << "4 threads changed the output";
  EXPECT_TRUE(errors[1] == errors[0]) << "2 threads changed the errors file";
  EXPECT_TRUE(errors[2] == errors[0]) << "4 threads changed the errors file";
  EXPECT_EQ(count_lines(errors[0]), 2446u);
}

TEST_F(Cli, RunSummaryAndBenchResultsAsJson) {
  auto input = write("in.txt", "first\nFail me\n\nthird\n");
  Outcome o = run("run " + guest("hostile") + " --format lines --threads 2 --json --input " + input.string() +
                  " --errors " + (dir_ / "e.jsonl").string());
  EXPECT_EQ(o.status, 1);
  std::regex summary(
      R"(^\{"records_in":3,"out":2,"dropped":0,"failed":1,"not_processed":0,"blank_lines":1,"alerts":0,"threads":2,"seconds":[0-9.]+,"records_per_second":[0-9]+,"interrupted_by":null,"last_line":4,"exit_status":1\}
$)");
  EXPECT_TRUE(std::regex_search(o.stderr_text, summary)) << o.stderr_text;

  Outcome b = run("bench " + redact() + " --seconds 0.2 --threads 2 --deadline-ms 10000 --json");
  EXPECT_EQ(b.status, 0) << b.stderr_text;
  std::regex results(
      R"(^\{"plugin":"[^"]+redact.wasm","abi":"native","hook":"transform","isolation":"fresh","threads":2,"distinct_records":1,"calls":[1-9][0-9]*,"seconds":[0-9.]+,"calls_per_second":[0-9]+,"failed":0,"latency_ns":\{"p50":[0-9]+,"p90":[0-9]+,"p99":[0-9]+,"max":[0-9]+\},"first_failure":null\}
$)");
  EXPECT_TRUE(std::regex_match(b.stdout_text, results)) << b.stdout_text;

  auto failing = write("fail.txt", "Fail me\n");
  Outcome bf = run("bench " + guest("hostile") + " --seconds 0.2 --json --input " + failing.string());
  EXPECT_EQ(bf.status, 1) << "failed calls are a non-zero exit";
  EXPECT_NE(bf.stdout_text.find(R"("first_failure":"GuestError in call)"), std::string::npos) << bf.stdout_text;
  EXPECT_EQ(bf.stdout_text.find(R"("failed":0,)"), std::string::npos) << bf.stdout_text;
}

TEST_F(Cli, VersionAndDefaultsInTheHelp) {
  Outcome v = run("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.stdout_text, std::string("wasmplug ") + WASMPLUG_VERSION + "\n");

  Outcome help = run("run --help");
  EXPECT_EQ(help.status, 0);
  for (const char* shown : {"-i,--input TEXT=-", "Input file, - for stdin", "-o,--output TEXT=-",
                            "Output file, - for stdout", "--errors TEXT", "default: stderr", "--format TEXT:{jsonl,lines}=jsonl",
                            "--abi TEXT:{native,cc-lb,rustcdc,kestrel}=native", "--deadline-ms UINT:INT in [1 - 600000]=50",
                            "--memory-mb UINT:INT in [1 - 64]=16", "--max-error-record-bytes", "=4096",
                            "--threads UINT:INT in [1 - 256]=", "default: the hardware's"}) {
    EXPECT_NE(help.stdout_text.find(shown), std::string::npos) << shown << "\n" << help.stdout_text;
  }
  Outcome inspect_help = run("inspect --help");
  EXPECT_NE(inspect_help.stdout_text.find("(default: guessed from the module)"), std::string::npos)
      << inspect_help.stdout_text;
}

TEST_F(Cli, ConfigForAPluginWithoutAnInitHookIsAnError) {
  auto cfg = write("cfg", "x");
  auto input = write("in.txt", "a\n");
  Outcome native = run("run " + guest("echo") + " --format lines --config " + cfg.string() + " --input " +
                       input.string());
  EXPECT_EQ(native.status, 2);
  EXPECT_EQ(native.stderr_text, "wasmplug: --config " + cfg.string() + ": " + guest("echo") +
                                    " does not export wp_init, so nothing would receive it\n");
  EXPECT_TRUE(native.stdout_text.empty());
  Outcome cc = run("run " + guest("cc_lb_upper") + " --abi cc-lb --hook shape --config " + cfg.string() +
                   " --input " + input.string());
  EXPECT_EQ(cc.status, 2);
  EXPECT_EQ(cc.stderr_text, "wasmplug: --config " + cfg.string() + ": the cc-lb profile has no init hook to receive it\n");
  Outcome bench = run("bench " + guest("echo") + " --seconds 0.1 --config " + cfg.string());
  EXPECT_EQ(bench.status, 2);
}

TEST_F(Cli, UnreadableAndUnwritableFilesSayWhy) {
  Outcome input_dir = run("run " + redact() + " --input " + dir_.string());
  EXPECT_EQ(input_dir.status, 2);
  EXPECT_EQ(input_dir.stderr_text, "wasmplug: cannot read input " + dir_.string() + ": Is a directory\n");
  Outcome module_dir = run("run " + dir_.string() + " --input /dev/null");
  EXPECT_EQ(module_dir.status, 2);
  EXPECT_NE(module_dir.stderr_text.find("Is a directory"), std::string::npos) << module_dir.stderr_text;
  Outcome output = run("run " + redact() + " --input /dev/null --output " + (dir_ / "no/such/dir/out").string());
  EXPECT_EQ(output.status, 2);
  EXPECT_NE(output.stderr_text.find((dir_ / "no/such/dir/out").string() + ": No such file or directory"),
            std::string::npos)
      << output.stderr_text;
  Outcome errors = run("run " + redact() + " --input /dev/null --errors " + (dir_ / "none/e").string());
  EXPECT_EQ(errors.status, 2);
  EXPECT_NE(errors.stderr_text.find((dir_ / "none/e").string() + ": No such file or directory"), std::string::npos)
      << errors.stderr_text;
  Outcome schema = run("run " + guest("kestrel_bash") + " --abi kestrel --schema " + dir_.string() +
                       " --input /dev/null");
  EXPECT_EQ(schema.status, 2);
  EXPECT_EQ(schema.stderr_text, "wasmplug: cannot read schema file " + dir_.string() + ": Is a directory\n");
  Outcome bench_input = run("bench " + redact() + " --input " + (dir_ / "none").string());
  EXPECT_EQ(bench_input.status, 2);
  EXPECT_EQ(bench_input.stderr_text,
            "wasmplug: cannot read input " + (dir_ / "none").string() + ": No such file or directory\n");
}

TEST_F(Cli, LongFailedRecordsAreStoredTruncatedWithLengthAndHash) {
  const std::string long_record = "Fail me " + std::string(10'000, 'x');
  auto record_file = write("record.txt", long_record);
  auto input = write("in.txt", "short\n" + long_record + "\nFail me too\n");
  auto errors = dir_ / "errors.jsonl";
  Outcome o = run("run " + guest("hostile") + " --format lines --input " + input.string() + " --errors " +
                  errors.string());
  EXPECT_EQ(o.status, 1) << o.stderr_text;
  std::string lines = slurp(errors);
  ASSERT_EQ(count_lines(lines), 2u) << lines.substr(0, 300);
  std::string first = lines.substr(0, lines.find('\n'));
  const std::string prefix = "Fail me " + std::string(4096 - 8, 'x');
  EXPECT_NE(first.find("\"record\":\"" + prefix + "\",\"record_bytes\":10008,\"truncated\":true,\"record_sha256\":\"" +
                       sha256_of(record_file) + "\"}"),
            std::string::npos)
      << first.substr(0, 200) << " ... " << first.substr(first.size() - 200);
  EXPECT_LT(first.size(), 4096u + 300u);
  // A short failed record stays whole, without the extra fields.
  EXPECT_NE(lines.find("\"record\":\"Fail me too\"}\n"), std::string::npos);

  Outcome small = run("run " + guest("hostile") + " --format lines --max-error-record-bytes 16 --input " +
                      input.string() + " --errors " + errors.string());
  EXPECT_EQ(small.status, 1);
  lines = slurp(errors);
  EXPECT_NE(lines.find("\"record\":\"Fail me xxxxxxxx\",\"record_bytes\":10008,\"truncated\":true,\"record_sha256\":\"" +
                       sha256_of(record_file) + "\"}"),
            std::string::npos)
      << lines.substr(0, 400);
  Outcome zero = run("run " + guest("hostile") + " --format lines --max-error-record-bytes 0 --input " +
                     input.string());
  EXPECT_EQ(zero.status, 2);
  EXPECT_NE(zero.stderr_text.find("--max-error-record-bytes"), std::string::npos) << zero.stderr_text;
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

// Returns once `out` has bytes in it (the CLI is producing output), or after a minute.
void wait_for_output(const fs::path& out) {
  for (int i = 0; i < 12000; ++i) {
    std::error_code ec;
    if (fs::exists(out, ec) && fs::file_size(out, ec) > 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
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
  wait_for_output(out);
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

TEST_F(CliProcess, SigtermWithFourThreadsWritesAPrefixOfTheFullOutput) {
  std::string sample = slurp(WASMPLUG_SAMPLE_DATA);
  auto input = dir_ / "big.jsonl";
  {
    std::ofstream big(input, std::ios::binary);
    for (int i = 0; i < 100; ++i) {
      big << sample;
    }
  }
  // The whole run, on one thread: what an interrupted run's output must be a prefix of.
  auto full = dir_ / "full.jsonl";
  // Generous deadlines: a loaded machine must not turn a record into a Timeout in one run only.
  Exit whole = finish({"run", redact(), "--threads", "1", "--deadline-ms", "10000", "--input", input.string(),
                       "--output", full.string()});
  ASSERT_EQ(whole.code, 0) << err_text();
  const std::string expected = slurp(full);

  auto out = dir_ / "out.jsonl";
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = start({"run", redact(), "--threads", "4", "--deadline-ms", "10000", "--input", input.string(),
                     "--output", out.string()},
                    null_fd);
  ::close(null_fd);
  ASSERT_GT(pid, 0);
  wait_for_output(out);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  Exit e = wait_for(pid);
  std::string err = err_text();
  EXPECT_EQ(e.signal, 0);
  EXPECT_EQ(e.code, 143) << err;
  Summary s = parse_summary(err);
  ASSERT_TRUE(s.found) << err;
  EXPECT_EQ(s.in, s.out + s.dropped + s.failed + s.not_processed) << err;
  EXPECT_GT(s.not_processed, 0u) << "the signal landed after the end: " << err;
  std::string text = slurp(out);
  EXPECT_EQ(count_lines(text), s.out) << err;
  ASSERT_LE(text.size(), expected.size());
  EXPECT_TRUE(expected.compare(0, text.size(), text) == 0) << "the interrupted output is not a prefix";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(err, m, std::regex(R"(interrupted by SIGTERM after input line (\d+))"))) << err;
  EXPECT_EQ(std::stoull(m[1]), s.out) << "every line up to the one named was written (no blank lines here)";
}

TEST_F(CliProcess, AmplifyingPluginIsWrittenInPartsInBoundedMemory) {
  // 600 tiny records, each answered with 256 KiB: 150 MiB of output. A batch
  // (64 records) would hold 16 MiB of outputs and 6 batches are in flight; the
  // CLI hands a batch back once it holds 1 MiB of outputs, so it stays small.
  auto out = dir_ / "out.txt";
  // Under ASan freed memory waits in a quarantine (256 MiB by default) and would count as held.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_before = asan != nullptr ? asan : "";
  ::setenv("ASAN_OPTIONS", (asan_before + (asan_before.empty() ? "" : ":") + "quarantine_size_mb=4").c_str(), 1);
  Fed fed = start_fed({"run", guest("amplify"), "--format", "lines", "--threads", "2", "--deadline-ms", "10000",
                       "--output", out.string()});
  constexpr std::uintmax_t kLine = (256u << 10) + 1;
  auto output_reaches = [&](std::uintmax_t bytes) {
    return eventually([&] {
      std::error_code ec;
      return fs::file_size(out, ec) == bytes;
    });
  };
  if (asan != nullptr) {
    ::setenv("ASAN_OPTIONS", asan_before.c_str(), 1);
  } else {
    ::unsetenv("ASAN_OPTIONS");
  }
  ASSERT_TRUE(write_all(fed.fd, "A\n", 2));
  ASSERT_TRUE(output_reaches(kLine)) << err_text();
  const long baseline = hwm_kb_of(fed.pid);  // idle on its input: the peak so far is final
  std::string text;
  for (int i = 1; i < 600; ++i) {
    text += static_cast<char>('A' + i % 26);
    text += "\n";
  }
  ASSERT_TRUE(write_all(fed.fd, text.data(), text.size()));
  ASSERT_TRUE(output_reaches(600 * kLine)) << err_text();
  const long peak = hwm_kb_of(fed.pid);
  ::close(fed.fd);
  Exit e = wait_for(fed.pid);
  EXPECT_EQ(e.code, 0) << err_text();
  EXPECT_GT(baseline, 0);
  EXPECT_LT(peak - baseline, 40 * 1024) << "peak RSS " << peak << " KiB, after the first record " << baseline;
  std::ifstream lines(out, std::ios::binary);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    ASSERT_EQ(line.size(), 256u << 10);
    ASSERT_EQ(line[0], static_cast<char>('A' + n % 26)) << "record " << n << " out of order";
  }
  EXPECT_EQ(n, 600);
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

TEST_F(Cli, MetricsAddrIsCheckedBeforeThePluginLoads) {
  auto input = write("in.txt", "one\n");
  Outcome o = run("run " + guest("hostile") + " --format lines --input " + input.string() +
                  " --metrics-addr 127.0.0.1");
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find("wasmplug: --metrics-addr: metrics address '127.0.0.1' has no port"),
            std::string::npos)
      << o.stderr_text;
  EXPECT_TRUE(o.stdout_text.empty()) << "a record was processed before the setup error";

  // A port in use (held by this test) is the system's reason, named.
  const int held = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(held, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(held, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(held, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  o = run("bench " + redact() + " --seconds 0.1 --metrics-addr " + busy);
  ::close(held);
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.stderr_text.find("wasmplug: --metrics-addr: cannot bind metrics address '" + busy +
                               "': Address already in use"),
            std::string::npos)
      << o.stderr_text;

  // Port 0: the address bound is printed; the command runs as usual.
  o = run("bench " + redact() + " --seconds 0.1 --metrics-addr 127.0.0.1:0");
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  const std::regex serving(R"(wasmplug: serving metrics on http://127\.0\.0\.1:[1-9][0-9]*/metrics\n)");
  EXPECT_TRUE(std::regex_search(o.stderr_text, serving)) << o.stderr_text;
}
