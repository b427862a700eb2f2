// Pipelines with torvyn components as stages (wasmplug/pipeline.hpp,
// make_component_source / processor / sink, `type = "component"` in
// pipeline files): order, backpressure from a pausing sink component to the
// source, complete(), every process-error case in the dead-letter file,
// fatal, traps and loops, pipeline-file errors, and the CLI.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_process.hpp"
#include "pipeline_checks.hpp"
#include "wasmplug/pipeline.hpp"

namespace fs = std::filesystem;
using namespace wasmplug;
using namespace wasmplug::pipeline;
using wasmplug::test::lines_of;
using wasmplug::test::slurp;

namespace {

std::string component(const std::string& stem) { return std::string(WASMPLUG_TORVYN_GUEST_DIR) + "/" + stem + ".wasm"; }

void expect_accounted(const PipelineStats& st) {
  EXPECT_TRUE(st.finished);
  wasmplug::test::expect_accounted(st);
}

// One dead-letter line's fields (the file is JSON lines written by the pipeline).
struct Dead {
  std::string stage, kind, phase, message, record;
};

std::string field(const std::string& line, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex("\"" + key + "\":\"((?:[^\"\\\\]|\\\\.)*)\""))) {
    return "<missing " + key + ">";
  }
  return m[1];
}

std::vector<Dead> dead_of(const fs::path& path) {
  std::vector<Dead> out;
  for (const std::string& line : lines_of(slurp(path))) {
    out.push_back(Dead{field(line, "stage"), field(line, "kind"), field(line, "phase"), field(line, "message"),
                       field(line, "record")});
  }
  return out;
}

class PipelineComponentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!WASMPLUG_HAVE_COMPONENT_GUESTS) {
      GTEST_SKIP() << "the torvyn test components were not built (WASMPLUG_GUEST_LANGS without rust)";
    }
    dir_ = fs::temp_directory_path() /
           ("wasmplug_pipeline_component_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};
    auto runtime = Runtime::create(std::move(config));
    ASSERT_TRUE(runtime) << runtime.error().to_string();
    runtime_ = std::move(runtime).value();
  }
  void TearDown() override {
    if (!dir_.empty()) {
      fs::remove_all(dir_);
    }
  }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  Result<std::unique_ptr<Pipeline>> build(const std::string& toml) {
    auto spec = parse_pipeline(toml, (dir_ / "p.toml").string());
    if (!spec) {
      return spec.error();
    }
    return build_pipeline(*spec, *runtime_);
  }

  Result<PipelineStats> run_toml(const std::string& toml) {
    auto built = build(toml);
    if (!built) {
      return built.error();
    }
    return (*built)->run();
  }

  fs::path dir_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace

TEST_F(PipelineComponentTest, SourceComponentThroughUpperComponentToFileInOrder) {
  constexpr int kCount = 1000;
  auto st = run_toml("[pipeline]\nthreads = 2\nbatch_records = 16\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\ntype = \"component\"\npath = \"" + component("source") +
                     "\"\nconfig = '{\"count\": " + std::to_string(kCount) + "}'\n"
                     "[[processor]]\nname = \"upper\"\ntype = \"component\"\npath = \"" + component("upper") +
                     "\"\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  std::string expected;
  for (int i = 0; i < kCount; ++i) {
    expected += "EVENT-" + std::to_string(i) + "\n";
  }
  EXPECT_EQ(slurp(dir_ / "out.txt"), expected);
  EXPECT_EQ(st->records_in, std::uint64_t{kCount});
  EXPECT_EQ(st->out, std::uint64_t{kCount});
  EXPECT_EQ(st->stages.front().type, "component");
  EXPECT_EQ(st->stages[1].type, "component:transform");
  expect_accounted(*st);
  EXPECT_EQ(slurp(dir_ / "dead.jsonl"), "");
}

// The sink component pauses after every 5th element: its pause holds the
// next push back, the pipeline's two batches fill, and the source waits
// (paused_seconds) instead of reading. Every record is accounted for; the
// filter's drops and the sink's rejects are counted at their stages, and
// complete() runs (the sink's `expect` check passes only if it counted them all).
TEST_F(PipelineComponentTest, PausingSinkComponentSlowsTheSourceAndCompletes) {
  std::string input;
  int kept = 0;
  int rejected = 0;
  for (int i = 0; i < 120; ++i) {
    if (i % 10 == 3) {
      input += "please drop " + std::to_string(i) + "\n";
    } else if (i % 40 == 7) {
      input += "reject\n";
      ++rejected;
    } else {
      input += "line " + std::to_string(i) + "\n";
      ++kept;
    }
  }
  write("in.txt", input);
  auto toml = [&](int expect) {
    return "[pipeline]\nthreads = 1\nbatch_records = 4\nqueue_batches = 2\ndead_letter = \"dead.jsonl\"\n"
           "[source]\npath = \"in.txt\"\n"
           "[[processor]]\nname = \"filter\"\ntype = \"component\"\npath = \"" + component("filter") +
           "\"\n[sink]\ntype = \"component\"\npath = \"" + component("sink") + "\"\npause_ms = 5\n"
           "config = '{\"pause_every\": 5, \"expect\": " + std::to_string(expect) + "}'\n";
  };
  auto st = run_toml(toml(kept));
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  EXPECT_EQ(st->records_in, 120u);
  EXPECT_EQ(st->dropped, 12u);
  EXPECT_EQ(st->stages.back().name, "sink");
  EXPECT_EQ(st->stages.back().type, "component");
  EXPECT_EQ(st->stages.back().out, static_cast<std::uint64_t>(kept));
  EXPECT_EQ(st->stages.back().failed, static_cast<std::uint64_t>(rejected));
  // kept / 5 pauses of 5 ms each at least.
  EXPECT_GE(st->stages.back().paused_seconds, 0.005 * (kept / 5) * 0.9);
  EXPECT_GT(st->stages.front().paused_seconds, 0.0) << "the source never waited: no backpressure";
  const std::vector<Dead> dead = dead_of(dir_ / "dead.jsonl");
  ASSERT_EQ(dead.size(), static_cast<std::size_t>(rejected));
  EXPECT_EQ(dead[0].stage, "sink");
  EXPECT_EQ(dead[0].kind, "GuestError");
  EXPECT_EQ(dead[0].message, "invalid-input: rejected");

  // complete() is called: with a wrong `expect` it fails, and so does the run.
  st = run_toml(toml(kept + 1));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("sink: "), std::string::npos) << st.error().to_string();
  EXPECT_NE(st.error().message.find("expected " + std::to_string(kept + 1) + " elements, got " + std::to_string(kept)),
            std::string::npos)
      << st.error().to_string();
}

// A component source under backpressure: it is told pause and, before the
// next pull, ready (the test source refuses pulls while paused, which would
// show as failed records).
TEST_F(PipelineComponentTest, ComponentSourceIsPausedAndResumed) {
  auto st = run_toml("[pipeline]\nthreads = 1\nbatch_records = 2\nqueue_batches = 2\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\ntype = \"component\"\npath = \"" + component("source") +
                     "\"\nconfig = '{\"count\": 60}'\n"
                     "[sink]\ntype = \"component\"\npath = \"" + component("sink") + "\"\npause_ms = 2\n"
                     "config = '{\"pause_every\": 3, \"expect\": 60}'\n");
  ASSERT_TRUE(st) << st.error().to_string() << "\n" << slurp(dir_ / "dead.jsonl");
  expect_accounted(*st);
  EXPECT_EQ(st->out, 60u);
  EXPECT_EQ(st->failed, 0u) << slurp(dir_ / "dead.jsonl");
  EXPECT_GT(st->stages.front().paused_seconds, 0.0);
}

TEST_F(PipelineComponentTest, EveryProcessErrorCaseLandsInTheDeadLetterFile) {
  write("in.txt", "one\ninvalid-input\ntwo\ninternal\nunavailable\ndeadline-exceeded\nthree\n");
  auto st = run_toml("[pipeline]\nthreads = 2\nbatch_records = 3\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"errors\"\nabi = \"torvyn\"\npath = \"" + component("errors") +
                     "\"\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  EXPECT_EQ(slurp(dir_ / "out.txt"), "one\ntwo\nthree\n");
  EXPECT_EQ(st->stages[1].failed, 4u);
  const std::vector<Dead> dead = dead_of(dir_ / "dead.jsonl");
  ASSERT_EQ(dead.size(), 4u);
  const std::pair<const char*, const char*> expected[] = {
      {"GuestError", "invalid-input: requested invalid-input"},
      {"GuestError", "internal: requested internal"},
      {"GuestError", "unavailable: requested unavailable"},
      {"Timeout", "the component reported deadline-exceeded"},
  };
  const char* records[] = {"invalid-input", "internal", "unavailable", "deadline-exceeded"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(dead[i].stage, "errors");
    EXPECT_EQ(dead[i].kind, expected[i].first);
    EXPECT_EQ(dead[i].phase, "call");
    EXPECT_EQ(dead[i].message, expected[i].second);
    EXPECT_EQ(dead[i].record, records[i]);
  }
}

// unavailable five times in a row opens the instance's circuit breaker:
// the next records fail with Tripped without entering the component.
TEST_F(PipelineComponentTest, UnavailableOpensTheCircuitBreaker) {
  write("in.txt", "unavailable\nunavailable\nunavailable\nunavailable\nunavailable\nfine\n");
  auto st = run_toml("[pipeline]\nthreads = 1\ndead_letter = \"dead.jsonl\"\n[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"errors\"\ntype = \"component\"\npath = \"" + component("errors") +
                     "\"\nbreaker_failures = 5\nbreaker_cooldown_ms = 60000\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  const std::vector<Dead> dead = dead_of(dir_ / "dead.jsonl");
  ASSERT_EQ(dead.size(), 6u);
  EXPECT_EQ(dead[4].kind, "GuestError");
  EXPECT_EQ(dead[5].kind, "Tripped");
  EXPECT_EQ(dead[5].record, "fine");
  EXPECT_EQ(slurp(dir_ / "out.txt"), "");
}

// fatal: the component is out of the pipeline. "after" would pass through
// the errors component unchanged if it were still called.
TEST_F(PipelineComponentTest, FatalComponentGetsNothingMore) {
  write("in.txt", "before\nfatal\nafter\ninvalid-input\nlast\n");
  auto st = run_toml("[pipeline]\nthreads = 1\nbatch_records = 2\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"errors\"\ntype = \"component\"\npath = \"" + component("errors") +
                     "\"\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  EXPECT_EQ(slurp(dir_ / "out.txt"), "before\n");
  const std::vector<Dead> dead = dead_of(dir_ / "dead.jsonl");
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_EQ(dead[0].record, "fatal");
  EXPECT_EQ(dead[0].kind, "GuestError");
  EXPECT_EQ(dead[0].message, "fatal: requested fatal (the instance is torn down and takes nothing more)");
  const char* rest[] = {"after", "invalid-input", "last"};
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(dead[i].record, rest[i - 1]);
    EXPECT_EQ(dead[i].stage, "errors");
    EXPECT_EQ(dead[i].kind, "GuestError");
    EXPECT_EQ(dead[i].message,
              "the component returned fatal earlier (fatal: requested fatal (the instance is torn down and takes "
              "nothing more)); it is out of the pipeline and gets no more records");
  }
  EXPECT_EQ(st->stages[1].failed, 4u);
}

TEST_F(PipelineComponentTest, TrapAndLoopInAProcessorFailRecordsAndThePipelineGoesOn) {
  write("in.txt", "a\ntrap\nb\nloop\nc\nstack-overflow\nd\n");
  auto st = run_toml("[pipeline]\nthreads = 2\nbatch_records = 2\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"hostile\"\ntype = \"component\"\npath = \"" + component("hostile") +
                     "\"\ndeadline_ms = 200\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  EXPECT_EQ(slurp(dir_ / "out.txt"), "a\nb\nc\nd\n");
  const std::vector<Dead> dead = dead_of(dir_ / "dead.jsonl");
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_EQ(dead[0].record, "trap");
  EXPECT_EQ(dead[0].kind, "Trap");
  EXPECT_EQ(dead[1].record, "loop");
  EXPECT_EQ(dead[1].kind, "Timeout");
  EXPECT_EQ(dead[2].record, "stack-overflow");
  EXPECT_EQ(dead[2].kind, "Trap");
}

TEST_F(PipelineComponentTest, BadComponentStagesAreNamedWithFileLineAndKey) {
  const std::string file = (dir_ / "p.toml").string();
  const std::string sink = "[sink]\npath = \"out.txt\"\n";
  struct Case {
    std::string toml;
    std::string message;
  } cases[] = {
      {"[source]\ntype = \"component\"\n" + sink, file + ":1: [source] of type \"component\" needs key 'path'"},
      {"[source]\ntype = \"component\"\npath = \"s.wasm\"\nframing = \"lines\"\n" + sink,
       file + ":4: [source] key 'framing' is unknown"},
      {"[source]\ntype = \"component\"\npath = \"s.wasm\"\nworld = \"transform\"\n" + sink,
       file + ":4: [source] key 'world' must be one of data-source, got 'transform'"},
      {"[source]\npath = \"in.txt\"\n[[processor]]\ntype = \"component\"\npath = \"u.wasm\"\nhook = \"x\"\n" + sink,
       file + ":6: [[processor]] #1 key 'hook' is unknown"},
      {"[source]\npath = \"in.txt\"\n[[processor]]\ntype = \"component\"\npath = \"u.wasm\"\ndeadline_ms = 0\n" + sink,
       file + ":6: [[processor]] #1 key 'deadline_ms' must be an integer in 1..60000"},
      {"[source]\npath = \"in.txt\"\n[[processor]]\ntype = \"component\"\npath = \"u.wasm\"\nworld = \"data-sink\"\n" +
           sink,
       file + ":6: [[processor]] #1 key 'world' must be one of transform, managed-transform"},
      {"[source]\npath = \"in.txt\"\n[sink]\ntype = \"component\"\npath = \"k.wasm\"\nframing = \"lines\"\n",
       file + ":6: [sink] key 'framing' is unknown"},
      {"[source]\npath = \"in.txt\"\n[sink]\ntype = \"component\"\npath = \"k.wasm\"\npause_ms = 0\n",
       file + ":6: [sink] key 'pause_ms' must be an integer in 1..60000"},
      {"[source]\ntype = \"component\"\npath = \"s.wasm\"\npause_ms = 3\n" + sink,
       file + ":4: [source] key 'pause_ms' is unknown"},
  };
  for (const Case& c : cases) {
    auto spec = parse_pipeline(c.toml, file);
    ASSERT_FALSE(spec) << c.toml;
    EXPECT_EQ(spec.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(spec.error().phase, Phase::Config);
    EXPECT_NE(spec.error().message.find(c.message), std::string::npos)
        << "got: " << spec.error().message << "\nwanted: " << c.message;
  }
  // Relative paths are the pipeline file's; the world defaults per stage.
  auto spec = parse_pipeline("[source]\ntype = \"component\"\npath = \"s.wasm\"\n[[processor]]\nabi = \"torvyn\"\n"
                             "path = \"u.wasm\"\n[sink]\ntype = \"component\"\npath = \"k.wasm\"\n",
                             file);
  ASSERT_TRUE(spec) << spec.error().to_string();
  EXPECT_EQ(spec->source_component.path, (dir_ / "s.wasm").string());
  EXPECT_EQ(spec->source_component.world, "data-source");
  EXPECT_EQ(spec->processors[0].type, "component");
  EXPECT_EQ(spec->processors[0].name, "u");
  EXPECT_EQ(spec->processors[0].component.world, "transform");
  EXPECT_EQ(spec->sink_component.world, "data-sink");
}

// Loading errors name the stage: a component of the wrong world is refused
// by admission, a config init refuses stops the build.
TEST_F(PipelineComponentTest, WrongWorldAndRefusedConfigFailTheBuild) {
  write("in.txt", "x\n");
  auto built = build("[source]\ntype = \"component\"\npath = \"" + component("upper") + "\"\n[sink]\npath = \"o\"\n");
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().kind, ErrorKind::Rejected) << built.error().to_string();
  EXPECT_NE(built.error().message.find("p.toml: [source]"), std::string::npos) << built.error().to_string();

  built = build("[source]\npath = \"in.txt\"\n[[processor]]\nname = \"pre\"\ntype = \"component\"\nworld = "
                "\"managed-transform\"\npath = \"" + component("prefix") + "\"\nconfig = '{}'\n[sink]\npath = \"o\"\n");
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().kind, ErrorKind::GuestError) << built.error().to_string();
  EXPECT_EQ(built.error().phase, Phase::Init);
  EXPECT_NE(built.error().message.find("processor 'pre'"), std::string::npos) << built.error().to_string();
  EXPECT_NE(built.error().message.find("missing string field"), std::string::npos) << built.error().to_string();

  // The library API refuses a component of the wrong world for the stage.
  torvyn::ComponentOptions options;
  options.name = "upper";
  auto upper = runtime_->load_component_file(component("upper"), options);
  ASSERT_TRUE(upper) << upper.error().to_string();
  auto sink = make_component_sink(*upper, std::chrono::milliseconds(10));
  ASSERT_FALSE(sink);
  EXPECT_EQ(sink.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(sink.error().message.find("needs data-sink"), std::string::npos) << sink.error().message;
}

TEST_F(PipelineComponentTest, CliRunsAPipelineOfComponents) {
  write("p.toml", "[pipeline]\ndead_letter = \"dead.jsonl\"\n"
                  "[source]\ntype = \"component\"\npath = \"" + component("source") +
                  "\"\nconfig = '{\"count\": 50}'\n"
                  "[[processor]]\nname = \"pre\"\ntype = \"component\"\nworld = \"managed-transform\"\npath = \"" +
                  component("prefix") + "\"\nconfig = '{\"prefix\": \"> \"}'\n"
                  "[[processor]]\nname = \"errors\"\ntype = \"component\"\npath = \"" + component("errors") +
                  "\"\n[sink]\npath = \"out.txt\"\n");
  auto o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline run --no-cache --json " + (dir_ / "p.toml").string(), dir_);
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  const std::vector<std::string> out = lines_of(slurp(dir_ / "out.txt"));
  ASSERT_EQ(out.size(), 50u);
  EXPECT_EQ(out.front(), "> event-0");
  EXPECT_EQ(out.back(), "> event-49");
  EXPECT_NE(o.stderr_text.find("\"records_in\":50,\"out\":50,\"dropped\":0,\"failed\":0"), std::string::npos)
      << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("{\"name\":\"pre\",\"type\":\"component:managed-transform\",\"in\":50,\"out\":50"),
            std::string::npos)
      << o.stderr_text;
}

// `pipeline check` loads a component source and sink as the run would (and
// instantiates them, so a refused config shows), without running anything.
TEST_F(PipelineComponentTest, CheckRefusesABadComponentSourceOrSink) {
  write("good.toml", "[source]\ntype = \"component\"\npath = \"" + component("source") +
                         "\"\nconfig = '{\"count\": 5}'\n[sink]\ntype = \"component\"\npath = \"" +
                         component("sink") + "\"\n");
  auto o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline check --no-cache " + (dir_ / "good.toml").string(), dir_);
  EXPECT_EQ(o.status, 0) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("good.toml: ok (source component"), std::string::npos) << o.stderr_text;

  write("sink.toml", "[source]\npath = \"in.txt\"\n[sink]\ntype = \"component\"\npath = \"" + component("upper") +
                         "\"\n");
  o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline check --no-cache " + (dir_ / "sink.toml").string(), dir_);
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.stderr_text.find("sink.toml: [sink]"), std::string::npos) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("Rejected"), std::string::npos) << o.stderr_text;

  write("source.toml", "[source]\ntype = \"component\"\npath = \"" + component("source") +
                           "\"\nconfig = 'not json'\n[sink]\npath = \"out.txt\"\n");
  o = wasmplug::test::run_cli(WASMPLUG_CLI, "pipeline check --no-cache " + (dir_ / "source.toml").string(), dir_);
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.stderr_text.find("source.toml: [source]"), std::string::npos) << o.stderr_text;
  EXPECT_FALSE(fs::exists(dir_ / "out.txt"));  // a check opens no file
}

// The library's check: the processors' count, or the stage's error.
TEST_F(PipelineComponentTest, CheckPipelineCountsProcessorsAndNamesTheBadStage) {
  auto spec = parse_pipeline("[source]\npath = \"in.txt\"\n[[processor]]\nname = \"up\"\ntype = \"component\"\npath = \"" +
                                 component("upper") + "\"\n[sink]\ntype = \"component\"\npath = \"" +
                                 component("sink") + "\"\n",
                             (dir_ / "p.toml").string());
  ASSERT_TRUE(spec) << spec.error().to_string();
  auto checked = check_pipeline(*spec, *runtime_);
  ASSERT_TRUE(checked) << checked.error().to_string();
  EXPECT_EQ(*checked, 1u);
  spec->sink_component.path = component("upper");
  checked = check_pipeline(*spec, *runtime_);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::Rejected) << checked.error().to_string();
  EXPECT_NE(checked.error().message.find("[sink]"), std::string::npos) << checked.error().to_string();
}

// The content type a component source gives its elements, and its sequence
// numbers, travel with the records: a processor two stages on sees them (the
// flow component echoes them). Records of a file source have no type
// (application/octet-stream) and their line numbers as sequence.
TEST_F(PipelineComponentTest, ContentTypeAndSequenceTravelWithTheRecords) {
  auto st = run_toml("[pipeline]\nthreads = 2\nbatch_records = 3\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\ntype = \"component\"\npath = \"" + component("source") +
                     "\"\nconfig = '{\"count\": 20}'\n"
                     "[[processor]]\nname = \"pre\"\ntype = \"component\"\nworld = \"managed-transform\"\npath = \"" +
                     component("prefix") + "\"\nconfig = '{\"prefix\": \"> \"}'\n"
                     "[[processor]]\nname = \"flow\"\ntype = \"component\"\nworld = \"managed-transform\"\npath = \"" +
                     component("flow") + "\"\nconfig = '{}'\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  const std::vector<std::string> out = lines_of(slurp(dir_ / "out.txt"));
  ASSERT_EQ(out.size(), 20u);
  for (std::size_t n = 0; n < out.size(); ++n) {
    EXPECT_EQ(out[n], "trace= span= flow= deadline=0 type=text/plain seq=" + std::to_string(n));
  }

  write("in.txt", "a\nb\nc\n");
  st = run_toml("[pipeline]\ndead_letter = \"dead.jsonl\"\n[source]\npath = \"in.txt\"\n"
                "[[processor]]\nname = \"flow\"\ntype = \"component\"\nworld = \"managed-transform\"\npath = \"" +
                component("flow") + "\"\nconfig = '{}'\n[sink]\npath = \"out2.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  const std::vector<std::string> lines = lines_of(slurp(dir_ / "out2.txt"));
  ASSERT_EQ(lines.size(), 3u);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    EXPECT_EQ(lines[n], "trace= span= flow= deadline=0 type=application/octet-stream seq=" + std::to_string(n + 1));
  }
}
