// Pipelines through the library (wasmplug/pipeline.hpp): order, accounting,
// the dead-letter file, pipeline files and their errors, backpressure with
// bounded memory, stop and drain, acknowledgements, sink failures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include "cli_process.hpp"
#include "pipeline_checks.hpp"
#include "wasmplug/pipeline.hpp"

namespace fs = std::filesystem;
using namespace wasmplug;
using namespace wasmplug::pipeline;
using wasmplug::test::expect_accounted;
using wasmplug::test::lines_of;
using wasmplug::test::slurp;

namespace {

long rss_kb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string guest(const std::string& name) { return std::string(WASMPLUG_GUEST_DIR) + "/guest_" + name + ".wasm"; }

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wasmplug_pipeline_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    RuntimeConfig config;
    config.log_sink = [](const LogRecord&) {};  // the upper guest logs every call
    auto runtime = Runtime::create(std::move(config));
    ASSERT_TRUE(runtime) << runtime.error().to_string();
    runtime_ = std::move(runtime).value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  Result<PipelineStats> run_toml(const std::string& toml,
                                 const std::map<std::string, ProcessorFactory>& factories = {}) {
    auto spec = parse_pipeline(toml, (dir_ / "p.toml").string());
    if (!spec) {
      return spec.error();
    }
    auto built = build_pipeline(*spec, *runtime_, factories);
    if (!built) {
      return built.error();
    }
    return (*built)->run();
  }

  fs::path dir_;
  std::unique_ptr<Runtime> runtime_;
};

// A processor defined in code: fails records containing "bad", drops those
// containing "drop", appends "!" to the rest.
class Marker final : public Processor {
 public:
  Result<Verdict> process(std::string_view record, std::string& out) const override {
    if (record.find("bad") != std::string_view::npos) {
      return Error{ErrorKind::GuestError, Phase::Call, "marker", "transform", "bad record"};
    }
    if (record.find("drop") != std::string_view::npos) {
      return Verdict::Drop;
    }
    out.append(record);
    out += '!';
    return Verdict::Emit;
  }
};

std::map<std::string, ProcessorFactory> marker_factory() {
  return {{"marker", [](const std::string&, const std::map<std::string, std::string>&)
                         -> Result<std::unique_ptr<Processor>> {
             return std::unique_ptr<Processor>(std::make_unique<Marker>());
           }}};
}

}  // namespace

TEST_F(PipelineTest, WasmTransformOnEveryCoreKeepsInputOrder) {
  std::string input;
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    input += "record number " + std::to_string(i) + "\n";
    expected += "RECORD NUMBER " + std::to_string(i) + "\n";
  }
  write("in.txt", input);
  auto st = run_toml("[pipeline]\nthreads = 4\nbatch_records = 7\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"upper\"\npath = \"" +
                     guest("upper") + "\"\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(slurp(dir_ / "out.txt"), expected);
  EXPECT_EQ(st->records_in, 20000u);
  EXPECT_EQ(st->out, 20000u);
  EXPECT_EQ(st->stages.size(), 3u);
  EXPECT_EQ(st->stages[1].name, "upper");
  EXPECT_EQ(st->stages[1].type, "plugin:native");
  EXPECT_TRUE(st->finished);
  expect_accounted(*st);
  EXPECT_EQ(slurp(dir_ / "dead.jsonl"), "");
}

TEST_F(PipelineTest, FailuresGoToTheDeadLetterFileAndTheSamePluginServesTheNextRecord) {
  // "fail" makes the guest call wp_fail; a 2 MiB line is over the source's limit.
  const std::string huge(2u << 20, 'h');
  write("in.txt", "one\nfail\ntwo\n" + huge + "\nthree\n");
  auto st = run_toml("[pipeline]\nthreads = 2\ndead_letter = \"dead.jsonl\"\nmax_dead_letter_record_bytes = 64\n"
                     "[source]\npath = \"in.txt\"\nmax_record_bytes = 1048576\n"
                     "[[processor]]\nname = \"up\"\npath = \"" +
                     guest("upper") + "\"\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(slurp(dir_ / "out.txt"), "ONE\nTWO\nTHREE\n");
  EXPECT_EQ(st->records_in, 5u);
  EXPECT_EQ(st->failed, 2u);
  EXPECT_EQ(st->stages[0].failed, 1u);  // the source: too long
  EXPECT_EQ(st->stages[1].failed, 1u);  // the plugin
  expect_accounted(*st);
  auto dead = lines_of(slurp(dir_ / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_NE(dead[0].find("\"position\":2,\"stage\":\"up\",\"kind\":\"GuestError\",\"phase\":\"call\""),
            std::string::npos)
      << dead[0];
  EXPECT_NE(dead[0].find("asked to fail"), std::string::npos) << dead[0];
  EXPECT_NE(dead[0].find("\"record\":\"fail\""), std::string::npos) << dead[0];
  EXPECT_NE(dead[1].find("\"position\":4,\"stage\":\"source\",\"kind\":\"LimitExceeded\",\"phase\":\"input\""),
            std::string::npos)
      << dead[1];
  EXPECT_NE(dead[1].find("\"record\":\"" + std::string(64, 'h') + "\",\"record_bytes\":2097152,\"truncated\":true"),
            std::string::npos)
      << dead[1].substr(0, 300);
  EXPECT_LT(dead[1].size(), 600u) << "the dead-letter line keeps a bounded prefix";
}

TEST_F(PipelineTest, ATrappingGuestFailsOnlyItsRecord) {
  write("in.txt", "ok 1\nU trap\nok 2\n");
  auto st = run_toml("[pipeline]\ndead_letter = \"dead.jsonl\"\n[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"hostile\"\npath = \"" +
                     guest("hostile") + "\"\n[sink]\npath = \"out.txt\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(slurp(dir_ / "out.txt"), "ok 1\nok 2\n");
  auto dead = lines_of(slurp(dir_ / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find("\"stage\":\"hostile\",\"kind\":\"Trap\",\"phase\":\"call\""), std::string::npos)
      << dead[0];
  expect_accounted(*st);
}

TEST_F(PipelineTest, DropsAndFailuresAreCountedPerStageAlongAChain) {
  std::string input;
  for (int i = 0; i < 1000; ++i) {
    input += (i % 10 == 3 ? "bad " : i % 10 == 5 ? "drop " : "keep ") + std::to_string(i) + "\n";
  }
  write("in.txt", input);
  auto st = run_toml("[pipeline]\nthreads = 3\nbatch_records = 16\nqueue_batches = 3\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\npath = \"in.txt\"\n"
                     "[[processor]]\nname = \"up\"\npath = \"" +
                         guest("upper") +
                         "\"\n"
                         "[[processor]]\nname = \"mark\"\ntype = \"marker\"\n"
                         "[sink]\npath = \"out.txt\"\n",
                     marker_factory());
  ASSERT_TRUE(st) << st.error().to_string();
  // Upper-cased first: "BAD"/"DROP" no longer match the marker's lower-case tests.
  EXPECT_EQ(st->dropped, 0u);
  EXPECT_EQ(st->out, 1000u);
  expect_accounted(*st);

  auto st2 = run_toml("[pipeline]\nthreads = 3\nbatch_records = 16\ndead_letter = \"dead2.jsonl\"\n"
                      "[source]\npath = \"in.txt\"\n"
                      "[[processor]]\nname = \"mark\"\ntype = \"marker\"\n"
                      "[[processor]]\nname = \"up\"\npath = \"" +
                          guest("upper") + "\"\n[sink]\npath = \"out2.txt\"\n",
                      marker_factory());
  ASSERT_TRUE(st2) << st2.error().to_string();
  EXPECT_EQ(st2->stages[1].failed, 100u);
  EXPECT_EQ(st2->stages[1].dropped, 100u);
  EXPECT_EQ(st2->stages[2].in, 800u);
  EXPECT_EQ(st2->out, 800u);
  expect_accounted(*st2);
  auto out = lines_of(slurp(dir_ / "out2.txt"));
  ASSERT_EQ(out.size(), 800u);
  EXPECT_EQ(out[0], "KEEP 0!");
  EXPECT_EQ(out.back(), "KEEP 999!");
  auto dead = lines_of(slurp(dir_ / "dead2.jsonl"));
  ASSERT_EQ(dead.size(), 100u);
  EXPECT_NE(dead[0].find("\"position\":4,\"stage\":\"mark\",\"kind\":\"GuestError\""), std::string::npos) << dead[0];
}

TEST_F(PipelineTest, PipelineFileErrorsNameFileLineAndKey) {
  const std::string file = (dir_ / "p.toml").string();
  struct Case {
    std::string toml;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"[source]\npath = \"x\"\npth = 1\n[sink]\npath = \"y\"\n", file + ":3: [source] key 'pth' is unknown"},
      {"[source]\npath = \"x\"\n[sink]\npath = \"y\"\n[extra]\n", file + ":5: top-level key 'extra' is unknown"},
      {"[pipeline]\nthreads = \"two\"\n[source]\npath = \"x\"\n[sink]\npath = \"y\"\n",
       file + ":2: [pipeline] key 'threads' must be an integer in 0..256"},
      {"[pipeline]\nthreads = 999\n[source]\npath = \"x\"\n[sink]\npath = \"y\"\n",
       file + ":2: [pipeline] key 'threads' must be an integer in 0..256"},
      {"[source]\npath = \"x\"\nframing = \"json\"\n[sink]\npath = \"y\"\n",
       file + ":3: [source] key 'framing' must be one of lines, length-prefixed, got 'json'"},
      {"[source]\npath = \"x\"\n\n[[processor]]\npath = \"a.wasm\"\nhok = \"filter\"\n[sink]\npath = \"y\"\n",
       file + ":6: [[processor]] #1 key 'hok' is unknown"},
      {"[source]\npath = \"x\"\n[[processor]]\npath = \"a.wasm\"\nhook = \"shape\"\n[sink]\npath = \"y\"\n",
       file + ":5: [[processor]] 'a': the native profile has no hook 'shape'"},
      {"[source]\npath = \"x\"\n[[processor]]\nname = \"n\"\n[sink]\npath = \"y\"\n",
       file + ":3: [[processor]] #1 needs key 'path'"},
      {"[source]\npath = \"x\"\n", file + ":1: missing [sink] table"},
      {"[source]\npath = \"x\"\n[sink]\npath = = 3\n", file + ":4:"},
      {"[source]\npath = \"x\"\n[[processor]]\npath = \"a.wasm\"\ninstances = \"each\"\n[sink]\npath = \"y\"\n",
       file + ":5: [[processor]] #1 key 'instances' must be one of per-partition, shared, got 'each'"},
      {"[source]\npath = \"x\"\n[[processor]]\npath = \"a.wasm\"\nabi = \"kestrel\"\nschema = \"s.json\"\n"
       "instances = \"shared\"\n[sink]\npath = \"y\"\n",
       file + ":7: [[processor]] #1 key 'instances' does not apply to abi \"kestrel\""},
      {"[pipeline]\nqueue_batches = 1\n[source]\npath = \"x\"\n[sink]\npath = \"y\"\n",
       file + ":2: [pipeline] key 'queue_batches' must be 0 (2 x threads + 2) or 2..4096"},
  };
  for (const Case& c : cases) {
    auto spec = parse_pipeline(c.toml, file);
    ASSERT_FALSE(spec) << c.toml;
    EXPECT_EQ(spec.error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(spec.error().phase, Phase::Config);
    EXPECT_EQ(spec.error().message.rfind(c.expected, 0), 0u) << "got: " << spec.error().message;
  }
  // A factory type nobody registered is named at build time.
  auto spec = parse_pipeline("[source]\npath = \"x\"\n[[processor]]\nname = \"n\"\ntype = \"nope\"\n"
                             "[sink]\npath = \"y\"\n",
                             file);
  ASSERT_TRUE(spec);
  auto built = build_pipeline(*spec, *runtime_);
  ASSERT_FALSE(built);
  EXPECT_NE(built.error().message.find(file + ":3: processor 'n': unknown type 'nope'"), std::string::npos)
      << built.error().message;
}

TEST_F(PipelineTest, BadOptionsAreInvalidArgumentNamingTheField) {
  write("in.txt", "x\n");
  auto attempt = [&](PipelineOptions o) -> Error {
    auto source = make_file_source((dir_ / "in.txt").string(), Framing::Lines);
    auto sink = make_file_sink((dir_ / "out.txt").string(), Framing::Lines);
    EXPECT_TRUE(source && sink);
    auto p = Pipeline::create(std::move(o), std::move(source).value(), {}, std::move(sink).value());
    EXPECT_FALSE(p);
    return p ? Error{} : p.error();
  };
  PipelineOptions o;
  o.threads = 257;
  EXPECT_NE(attempt(o).message.find("PipelineOptions::threads"), std::string::npos);
  o = {};
  o.batch_records = 0;
  EXPECT_NE(attempt(o).message.find("PipelineOptions::batch_records"), std::string::npos);
  o = {};
  o.batch_bytes = 10;
  EXPECT_NE(attempt(o).message.find("PipelineOptions::batch_bytes"), std::string::npos);
  o = {};
  o.queue_batches = 1;
  EXPECT_NE(attempt(o).message.find("PipelineOptions::queue_batches"), std::string::npos);
  o = {};
  o.max_batch_output_bytes = 1000;
  EXPECT_NE(attempt(o).message.find("PipelineOptions::max_batch_output_bytes"), std::string::npos);
  o = {};
  o.max_dead_letter_record_bytes = 17u << 20;
  EXPECT_NE(attempt(o).message.find("PipelineOptions::max_dead_letter_record_bytes"), std::string::npos);
  auto missing = make_file_source((dir_ / "missing.txt").string(), Framing::Lines);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);
  EXPECT_NE(missing.error().message.find("missing.txt: No such file or directory"), std::string::npos)
      << missing.error().message;
}

namespace {

// A source much faster than any sink: 1 KiB records, forever, until interrupted.
class Flood final : public Source {
 public:
  Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records, std::size_t max_bytes) override {
    if (stop_.load()) {
      return PullStatus::End;
    }
    while (batch.size() < max_records && batch.byte_size() < max_bytes) {
      batch.add(record_, ++produced_);
    }
    return PullStatus::Records;
  }
  void acknowledge(std::span<const Ack> acks) override {
    std::lock_guard lock(mutex_);
    for (const Ack& a : acks) {
      if (a.position != acked_ + 1) {
        in_order_ = false;
      }
      acked_ = a.position;
    }
  }
  void interrupt() noexcept override { stop_ = true; }
  std::atomic<std::uint64_t> produced_{0};
  std::mutex mutex_;
  std::uint64_t acked_ = 0;
  bool in_order_ = true;

 private:
  std::string record_ = std::string(1024, 'f');
  std::atomic<bool> stop_{false};
};

// A slow sink: pauses after every batch for 2 ms.
class SlowSink final : public Sink {
 public:
  Result<SinkStatus> push(const RecordBatch& batch) override {
    for (const auto& e : batch.entries()) {
      written_ += e.outcome == Outcome::Out ? 1 : 0;
    }
    return SinkStatus::Pause;
  }
  Result<SinkStatus> wait_ready(std::chrono::milliseconds) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ++waits_;
    return SinkStatus::Ready;
  }
  Result<void> complete() override {
    completed_ = true;
    return {};
  }
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> waits_{0};
  std::atomic<bool> completed_{false};
};

}  // namespace

TEST_F(PipelineTest, AFloodAgainstAPausingSinkIsHeldBackWithBoundedMemory) {
  auto source = std::make_unique<Flood>();
  auto sink = std::make_unique<SlowSink>();
  Flood* flood = source.get();
  SlowSink* slow = sink.get();
  PipelineOptions options;
  options.threads = 2;
  options.batch_records = 64;
  options.queue_batches = 4;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  std::vector<NamedProcessor> chain;
  chain.push_back(NamedProcessor{"mark", "marker", std::make_unique<Marker>()});
  auto p = Pipeline::create(options, std::move(source), std::move(chain), std::move(sink));
  ASSERT_TRUE(p) << p.error().to_string();
  const long before = rss_kb();
  std::optional<Result<PipelineStats>> result;
  std::thread runner([&] { result.emplace((*p)->run()); });
  // Unbounded, the flood would produce ~1 GB/s; held back, it produces what
  // the sink takes plus at most the queue (4 batches of 64 records).
  long peak = 0;
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    peak = std::max(peak, rss_kb());
    const std::uint64_t ahead = flood->produced_.load() - slow->written_.load();
    EXPECT_LE(ahead, 4u * 64u + 64u) << "the source ran ahead of the sink by more than the queue";
  }
  const PipelineStats mid = (*p)->stats();
  EXPECT_LE(mid.queue_batches, 4u);
  EXPECT_GT(mid.stages.front().paused_seconds, 0.1) << "the source waited for free batches";
  (*p)->stop();
  runner.join();
  ASSERT_TRUE(result && *result) << (result && !*result ? result->error().to_string() : "no result");
  const PipelineStats& st = **result;
  EXPECT_TRUE(st.interrupted);
  EXPECT_EQ(st.records_in, flood->produced_.load());
  EXPECT_EQ(st.out, slow->written_.load());
  EXPECT_GT(slow->waits_.load(), 10u);
  EXPECT_GT(st.stages.back().paused_seconds, 0.0);
  EXPECT_TRUE(slow->completed_.load());
  expect_accounted(st);
  {
    std::lock_guard lock(flood->mutex_);
    EXPECT_TRUE(flood->in_order_) << "acknowledged in production order";
    EXPECT_EQ(flood->acked_, st.records_in) << "every record acknowledged";
  }
  EXPECT_LT(peak - before, 32 * 1024) << "RSS grew by " << (peak - before) << " KiB under a flood";
}

TEST_F(PipelineTest, StopDrainsEveryRecordReadFromAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string path = "/proc/self/fd/" + std::to_string(fds[0]);
  auto source = make_file_source(path, Framing::Lines);
  ASSERT_TRUE(source) << source.error().to_string();
  ::close(fds[0]);
  auto sink = make_file_sink((dir_ / "out.txt").string(), Framing::Lines);
  ASSERT_TRUE(sink);
  PipelineOptions options;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  std::vector<NamedProcessor> chain;
  chain.push_back(NamedProcessor{"mark", "marker", std::make_unique<Marker>()});
  auto p = Pipeline::create(options, std::move(source).value(), std::move(chain), std::move(sink).value());
  ASSERT_TRUE(p);
  std::optional<Result<PipelineStats>> result;
  std::thread runner([&] { result.emplace((*p)->run()); });
  std::string text;
  for (int i = 1; i <= 500; ++i) {
    text += "r" + std::to_string(i) + "\n";
  }
  text += "half a rec";  // cut mid-record: the source must not lose it silently
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  // The writer keeps the pipe open: only stop() ends the run.
  for (int i = 0; i < 400 && (*p)->stats().records_in < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (*p)->stop();
  runner.join();
  ::close(fds[1]);
  ASSERT_TRUE(result && *result);
  const PipelineStats& st = **result;
  EXPECT_EQ(st.records_in, 501u);
  EXPECT_EQ(st.out, 500u);
  EXPECT_EQ(st.failed, 1u);
  expect_accounted(st);
  EXPECT_EQ(lines_of(slurp(dir_ / "out.txt")).size(), 500u);
  auto dead = lines_of(slurp(dir_ / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find("\"position\":501,\"stage\":\"source\",\"kind\":\"Incomplete\""), std::string::npos)
      << dead[0];
  EXPECT_NE(dead[0].find("\"record\":\"half a rec\""), std::string::npos) << dead[0];
}

namespace {

class BrokenSink final : public Sink {
 public:
  Result<SinkStatus> push(const RecordBatch&) override {
    if (++pushes_ == 3) {
      return Error{ErrorKind::Io, Phase::Call, "", "", "disk on fire"};
    }
    return SinkStatus::Ready;
  }
  Result<void> complete() override { return {}; }
  int pushes_ = 0;
};

}  // namespace

TEST_F(PipelineTest, ASinkErrorEndsTheRunAndEveryRecordIsStillAccountedFor) {
  std::string input;
  for (int i = 0; i < 200000; ++i) {
    input += "line " + std::to_string(i) + "\n";
  }
  write("in.txt", input);
  auto source = make_file_source((dir_ / "in.txt").string(), Framing::Lines);
  ASSERT_TRUE(source);
  PipelineOptions options;
  options.batch_records = 10;
  options.queue_batches = 2;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  auto p = Pipeline::create(options, std::move(source).value(), {}, std::make_unique<BrokenSink>());
  ASSERT_TRUE(p);
  auto result = (*p)->run();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::Io);
  EXPECT_NE(result.error().message.find("sink: disk on fire"), std::string::npos) << result.error().message;
  const PipelineStats st = (*p)->stats();
  EXPECT_EQ(st.out, 20u);
  EXPECT_GE(st.failed, 10u);
  expect_accounted(st);
  EXPECT_EQ(lines_of(slurp(dir_ / "dead.jsonl")).size(), st.failed);
  EXPECT_LT(st.records_in, 200000u) << "the source stopped reading";
}

TEST_F(PipelineTest, LengthPrefixedFramingRoundTrips) {
  std::string input;
  auto frame = [&](const std::string& r) {
    const auto n = static_cast<std::uint32_t>(r.size());
    input += static_cast<char>(n >> 24);
    input += static_cast<char>(n >> 16);
    input += static_cast<char>(n >> 8);
    input += static_cast<char>(n);
    input += r;
  };
  frame("a\nb");  // newlines inside a record are fine with this framing
  frame("");
  frame(std::string(300, 'z'));  // over max_record_bytes = 100
  frame("last");
  write("in.bin", input);
  auto st = run_toml("[pipeline]\ndead_letter = \"dead.jsonl\"\n"
                     "[source]\npath = \"in.bin\"\nframing = \"length-prefixed\"\nmax_record_bytes = 100\n"
                     "[sink]\npath = \"out.bin\"\nframing = \"length-prefixed\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->records_in, 4u);
  EXPECT_EQ(st->out, 3u);
  EXPECT_EQ(st->failed, 1u);
  std::string expected = input;
  expected.erase(4 + 3 + 4, 4 + 300);
  EXPECT_EQ(slurp(dir_ / "out.bin"), expected);
  EXPECT_NE(slurp(dir_ / "dead.jsonl").find("\"kind\":\"LimitExceeded\""), std::string::npos);
}

TEST_F(PipelineTest, MetricsRenderEveryStage) {
  write("in.txt", "a\nbad\ndrop\n");
  auto spec = parse_pipeline("[pipeline]\ndead_letter = \"dead.jsonl\"\n[source]\npath = \"in.txt\"\n"
                             "[[processor]]\nname = \"mark\"\ntype = \"marker\"\n[sink]\npath = \"out.txt\"\n",
                             (dir_ / "p.toml").string());
  ASSERT_TRUE(spec);
  auto p = build_pipeline(*spec, *runtime_, marker_factory());
  ASSERT_TRUE(p);
  ASSERT_TRUE((*p)->run());
  std::string text;
  (*p)->render_metrics(text);
  for (const char* line :
       {"wasmplug_pipeline_records_total{stage=\"source\",type=\"file\",outcome=\"in\"} 3\n",
        "wasmplug_pipeline_records_total{stage=\"mark\",type=\"marker\",outcome=\"failed\"} 1\n",
        "wasmplug_pipeline_records_total{stage=\"mark\",type=\"marker\",outcome=\"dropped\"} 1\n",
        "wasmplug_pipeline_records_total{stage=\"sink\",type=\"file\",outcome=\"out\"} 1\n",
        "# TYPE wasmplug_pipeline_queue_batches gauge\n", "wasmplug_pipeline_records_in_flight 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

TEST_F(PipelineTest, AKestrelRuleKeepsOrDropsAndItsAlertsAreWritten) {
  write("schema.json", R"({"process.name": {"id": 1, "type": "string"}, "process.pid": {"id": 2, "type": "i64"},
                          "is_root": {"id": 5, "type": "bool"}})");
  write("in.jsonl",
        "{\"process\":{\"name\":\"bash\",\"pid\":4242},\"is_root\":true}\n"
        "{\"process\":{\"name\":\"vim\",\"pid\":4243},\"is_root\":true}\n"
        "{\"process\":{\"name\":\"zsh\",\"pid\":\"x\"}}\n"
        "not json\n"
        "{\"process\":{\"name\":\"sh\",\"pid\":5000},\"is_root\":true}\n");
  auto st = run_toml("[pipeline]\ndead_letter = \"dead.jsonl\"\n[source]\npath = \"in.jsonl\"\n"
                     "[[processor]]\nname = \"shells\"\nabi = \"kestrel\"\nschema = \"schema.json\"\n"
                     "alerts = \"alerts.jsonl\"\npath = \"" +
                     guest("kestrel_pred") + "\"\n[sink]\npath = \"out.jsonl\"\n");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->stages[1].type, "plugin:kestrel");
  EXPECT_EQ(st->out, 2u);
  EXPECT_EQ(st->dropped, 1u);
  EXPECT_EQ(st->failed, 2u);
  expect_accounted(*st);
  auto out = lines_of(slurp(dir_ / "out.jsonl"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].find("bash"), std::string::npos);
  auto alerts = lines_of(slurp(dir_ / "alerts.jsonl"));
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].rfind("{\"stage\":\"shells\",\"rule\":\"shells\",\"code\":42,\"record\":", 0), 0u) << alerts[0];
  auto dead = lines_of(slurp(dir_ / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_NE(dead[0].find("\"position\":3,\"stage\":\"shells\",\"kind\":\"InvalidArgument\""), std::string::npos)
      << dead[0];
  EXPECT_NE(dead[1].find("malformed JSON"), std::string::npos) << dead[1];
  // Keys of other profiles are refused for a rule, and a rule needs its schema.
  auto spec = parse_pipeline("[source]\npath = \"x\"\n[[processor]]\nabi = \"kestrel\"\npath = \"r.wasm\"\n"
                             "[sink]\npath = \"y\"\n",
                             "p.toml");
  ASSERT_FALSE(spec);
  EXPECT_NE(spec.error().message.find("with abi \"kestrel\" needs key 'schema'"), std::string::npos)
      << spec.error().message;
}

namespace {

// A hostile processor: every record becomes 1 MiB.
class Amplifier final : public Processor {
 public:
  Result<Verdict> process(std::string_view, std::string& out) const override {
    out.append(std::size_t{1} << 20, 'a');
    return Verdict::Emit;
  }
};

// Counts what comes out without keeping it.
class CountingSink final : public Sink {
 public:
  Result<SinkStatus> push(const RecordBatch& batch) override {
    for (const auto& e : batch.entries()) {
      out_ += e.outcome == Outcome::Out ? 1 : 0;
    }
    return SinkStatus::Ready;
  }
  Result<void> complete() override { return {}; }
  std::uint64_t out_ = 0;
};

}  // namespace

TEST_F(PipelineTest, AnAmplifyingProcessorCannotMultiplyMemoryByTheBatchSize) {
  std::string input;
  for (int i = 0; i < 4096; ++i) {
    input += "r" + std::to_string(i) + "\n";
  }
  write("in.txt", input);
  auto source = make_file_source((dir_ / "in.txt").string(), Framing::Lines);
  ASSERT_TRUE(source);
  PipelineOptions options;
  options.threads = 2;
  options.batch_records = 256;  // unbounded: 256 MiB per batch
  options.queue_batches = 3;
  options.max_batch_output_bytes = 4u << 20;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  std::vector<NamedProcessor> chain;
  chain.push_back(NamedProcessor{"amp", "amplifier", std::make_unique<Amplifier>()});
  auto sink = std::make_unique<CountingSink>();
  CountingSink* counting = sink.get();
  auto p = Pipeline::create(options, std::move(source).value(), std::move(chain), std::move(sink));
  ASSERT_TRUE(p);
  const long before = rss_kb();
  auto st = (*p)->run();
  const long after = rss_kb();
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->records_in, 4096u);
  EXPECT_EQ(st->out, counting->out_);
  EXPECT_EQ(st->out, 16u * 4u) << "4 records of 1 MiB fit each batch's 4 MiB";
  EXPECT_EQ(st->failed, 4096u - 64u);
  expect_accounted(*st);
  auto dead = lines_of(slurp(dir_ / "dead.jsonl"));
  ASSERT_EQ(dead.size(), st->failed);
  EXPECT_NE(dead[0].find("\"stage\":\"amp\",\"kind\":\"LimitExceeded\",\"phase\":\"call\""), std::string::npos)
      << dead[0];
  EXPECT_NE(dead[0].find("max_batch_output_bytes (4194304)"), std::string::npos) << dead[0];
  EXPECT_LT(after - before, 128 * 1024) << "RSS grew by " << (after - before) << " KiB";
}

// Two pipelines in one Runtime running the same plugin share its warm pool
// (loading the same content returns the same Plugin, sized for one
// pipeline's workers): a worker that finds every instance busy waits for
// one instead of failing its record with PoolSaturated.
TEST_F(PipelineTest, TwoPipelinesSharingAPluginWaitForInstancesAndLoseNothing) {
  std::string input;
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    input += "record number " + std::to_string(i) + "\n";
    expected += "RECORD NUMBER " + std::to_string(i) + "\n";
  }
  write("in.txt", input);
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  for (const std::string name : {"a", "b"}) {
    auto spec = parse_pipeline("[pipeline]\nthreads = 3\nbatch_records = 1\ndead_letter = \"dead-" + name +
                                   ".jsonl\"\n[source]\npath = \"in.txt\"\n[[processor]]\nname = \"upper\"\npath = \"" +
                                   guest("upper") + "\"\n[sink]\npath = \"out-" + name + ".txt\"\n",
                               (dir_ / "p.toml").string());
    ASSERT_TRUE(spec) << spec.error().to_string();
    auto built = build_pipeline(*spec, *runtime_);
    ASSERT_TRUE(built) << built.error().to_string();
    pipelines.push_back(std::move(built).value());
  }
  std::vector<Result<PipelineStats>> results(2, Error{ErrorKind::InvalidArgument, Phase::Call, {}, {}, "not run"});
  {
    std::vector<std::jthread> runners;
    for (std::size_t i = 0; i < 2; ++i) {
      runners.emplace_back([&, i] { results[i] = pipelines[i]->run(); });
    }
  }
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().to_string();
    EXPECT_EQ(results[i]->out, 20000u) << "pipeline " << i;
    EXPECT_EQ(results[i]->failed, 0u) << "pipeline " << i;
    expect_accounted(*results[i]);
  }
  EXPECT_EQ(slurp(dir_ / "out-a.txt"), expected);
  EXPECT_EQ(slurp(dir_ / "out-b.txt"), expected);
  EXPECT_EQ(slurp(dir_ / "dead-a.jsonl"), "");
  EXPECT_EQ(slurp(dir_ / "dead-b.jsonl"), "");
}

namespace {

// A source playing a script, one step per pull: open or close a flow, add
// records of one flow ("<tag>-<i>"), or run a check between batches.
class FlowScript final : public Source {
 public:
  struct Step {
    enum class Kind : std::uint8_t { Open, Close, Records, Check } kind;
    std::uint32_t flow = 0;
    int count = 0;
    std::string tag;
  };
  static Step open(std::uint32_t flow) { return Step{Step::Kind::Open, flow, 0, {}}; }
  static Step close(std::uint32_t flow) { return Step{Step::Kind::Close, flow, 0, {}}; }
  static Step records(std::uint32_t flow, int count, std::string tag) {
    return Step{Step::Kind::Records, flow, count, std::move(tag)};
  }
  static Step check(std::string name) { return Step{Step::Kind::Check, 0, 0, std::move(name)}; }
  FlowScript(std::vector<Step> steps, std::function<void(const std::string&)> check)
      : steps_(std::move(steps)), check_(std::move(check)) {}

  Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records, std::size_t) override {
    if (next_ == steps_.size()) {
      return PullStatus::End;
    }
    const Step& step = steps_[next_++];
    switch (step.kind) {
      case Step::Kind::Open: events_.push_back({FlowEvent::Kind::Opened, step.flow}); break;
      case Step::Kind::Close: events_.push_back({FlowEvent::Kind::Closed, step.flow}); break;
      case Step::Kind::Check: check_(step.tag); break;
      case Step::Kind::Records:
        EXPECT_LE(static_cast<std::size_t>(step.count), max_records);
        for (int i = 0; i < step.count; ++i) {
          batch.add(step.tag + "-" + std::to_string(i), ++position_, step.flow);
        }
        break;
    }
    return PullStatus::Records;
  }
  void flow_events(std::vector<FlowEvent>& events) override {
    events.insert(events.end(), events_.begin(), events_.end());
    events_.clear();
  }
  void interrupt() noexcept override {}

 private:
  std::vector<Step> steps_;
  std::function<void(const std::string&)> check_;
  std::size_t next_ = 0;
  std::uint64_t position_ = 0;
  std::vector<FlowEvent> events_;
};

// Keeps every record that came out, with its flow.
class CollectSink final : public Sink {
 public:
  Result<SinkStatus> push(const RecordBatch& batch) override {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch.entry(i).outcome == Outcome::Out) {
        records.emplace_back(batch.entry(i).flow, std::string(batch.record(i)));
      }
    }
    return SinkStatus::Ready;
  }
  Result<void> complete() override { return {}; }
  std::vector<std::pair<std::uint32_t, std::string>> records;
};

// count_tag answers "<input>#<count>": the counts each tag's records got, sorted.
std::map<std::string, std::vector<int>> counts_by_tag(const std::vector<std::pair<std::uint32_t, std::string>>& out) {
  std::map<std::string, std::vector<int>> counts;
  for (const auto& [flow, text] : out) {
    counts[text.substr(0, text.find('-'))].push_back(std::stoi(text.substr(text.find('#') + 1)));
  }
  for (auto& [tag, list] : counts) {
    std::sort(list.begin(), list.end());
  }
  return counts;
}

std::vector<int> one_to(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 1);
  return v;
}

}  // namespace

TEST_F(PipelineTest, PerFlowInstancesKeepEachFlowsStateAndACloseDropsTheInstance) {
  std::atomic<int> shutdowns{0};
  RuntimeConfig config;
  config.log_sink = [&](const LogRecord& r) { shutdowns += r.message == "shutdown" ? 1 : 0; };
  auto runtime = Runtime::create(std::move(config));
  ASSERT_TRUE(runtime) << runtime.error().to_string();
  Runtime& rt = **runtime;
  LoadOptions load;
  load.isolation = Isolation::Warm;
  load.pool.max_instances = 2;
  auto plugin = rt.load_file(guest("count_tag"), load);
  ASSERT_TRUE(plugin) << plugin.error().to_string();

  using F = FlowScript;
  std::vector<FlowScript::Step> steps{F::open(1), F::open(2), F::check("opened")};
  for (int i = 0; i < 8; ++i) {  // flows 1 and 2 interleaved, batch by batch
    steps.push_back(F::records(1, 30, "a"));
    steps.push_back(F::records(2, 30, "b"));
  }
  steps.push_back(F::close(1));
  steps.push_back(F::check("closed"));
  steps.push_back(F::records(2, 30, "b"));
  steps.push_back(F::records(7, 10, "z"));  // a flow never opened: the shared pool
  steps.push_back(F::open(1));
  steps.push_back(F::records(1, 30, "c"));
  steps.push_back(F::records(2, 30, "b"));
  std::map<std::string, std::pair<std::uint32_t, int>> seen;  // check -> live instances, shutdowns
  auto check = [&](const std::string& name) {
    EXPECT_TRUE(rt.quiesce());
    seen[name] = {rt.live_instances(), shutdowns.load()};
  };
  auto sink = std::make_unique<CollectSink>();
  CollectSink* collected = sink.get();
  PipelineOptions options;
  options.threads = 2;
  options.batch_records = 32;
  options.queue_batches = 6;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  std::vector<NamedProcessor> chain;
  chain.push_back(NamedProcessor{"count", "plugin:native",
                                 make_plugin_processor(rt, *plugin, Hook::Transform, Instances::PerFlow)});
  auto p = Pipeline::create(options, std::make_unique<FlowScript>(std::move(steps), check), std::move(chain),
                            std::move(sink));
  ASSERT_TRUE(p) << p.error().to_string();
  auto st = (*p)->run();
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  EXPECT_EQ(st->out, 8u * 60u + 30u + 10u + 30u + 30u);
  EXPECT_EQ(slurp(dir_ / "dead.jsonl"), "");

  // Each flow's records went to an instance of its own: its counts are 1..n.
  auto counts = counts_by_tag(collected->records);
  EXPECT_EQ(counts["a"], one_to(8 * 30)) << "flow 1 had one instance, shared with nobody";
  EXPECT_EQ(counts["b"], one_to(8 * 30 + 60)) << "flow 2 kept its instance across flow 1's close";
  EXPECT_EQ(counts["c"], one_to(30)) << "flow 1 opened again starts with a new instance";
  EXPECT_EQ(counts["z"].size(), 10u);
  // Instances: made on open, the closed flow's shut down (wp_shutdown) and freed.
  EXPECT_EQ(seen["opened"].first, 2u);
  EXPECT_EQ(seen["opened"].second, 0);
  EXPECT_EQ(seen["closed"].first, 1u) << "flow 1's instance went when it closed";
  EXPECT_EQ(seen["closed"].second, 1);
  ASSERT_TRUE(rt.quiesce());
  EXPECT_EQ(shutdowns.load(), 3) << "the flows still open at the end closed too";
  EXPECT_EQ(rt.live_instances(), (*plugin)->pool_stats().idle) << "only the shared pool's instances are left";
}

TEST_F(PipelineTest, AFlowWithoutAnInstanceFailsItsRecordsNamingTheLimit) {
  RuntimeConfig config;
  config.log_sink = [](const LogRecord&) {};
  config.max_instances = 1;
  auto runtime = Runtime::create(std::move(config));
  ASSERT_TRUE(runtime) << runtime.error().to_string();
  Runtime& rt = **runtime;
  LoadOptions load;
  load.isolation = Isolation::Warm;
  load.pool.max_instances = 1;
  auto plugin = rt.load_file(guest("count_tag"), load);
  ASSERT_TRUE(plugin) << plugin.error().to_string();
  using F = FlowScript;
  // Flow 1 takes the runtime's only instance; flow 2 gets none until flow 1 closes.
  std::vector<FlowScript::Step> steps{F::open(1),           F::open(2),          F::records(1, 5, "a"),
                                      F::records(2, 5, "b"), F::check("b failed"), F::close(1),
                                      F::check("closed"),    F::records(2, 5, "c")};
  auto sink = std::make_unique<CollectSink>();
  CollectSink* collected = sink.get();
  PipelineOptions options;
  options.threads = 1;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  std::vector<NamedProcessor> chain;
  chain.push_back(NamedProcessor{"count", "plugin:native",
                                 make_plugin_processor(rt, *plugin, Hook::Transform, Instances::PerFlow)});
  // "b failed": flow 2's first records were processed (and failed) before
  // flow 1 closes; "closed": the retirer freed flow 1's slot.
  const fs::path dead_file = dir_ / "dead.jsonl";
  auto check = [&](const std::string& step) {
    if (step == "closed") {
      (void)rt.quiesce();
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (lines_of(slurp(dead_file)).size() < 5 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  auto p = Pipeline::create(options, std::make_unique<FlowScript>(std::move(steps), check), std::move(chain),
                            std::move(sink));
  ASSERT_TRUE(p) << p.error().to_string();
  auto st = (*p)->run();
  ASSERT_TRUE(st) << st.error().to_string();
  expect_accounted(*st);
  EXPECT_EQ(st->failed, 5u) << "flow 2's records while flow 1 held the only instance";
  auto dead = lines_of(slurp(dir_ / "dead.jsonl"));
  ASSERT_EQ(dead.size(), 5u);
  EXPECT_NE(dead[0].find("\"kind\":\"PoolSaturated\""), std::string::npos) << dead[0];
  EXPECT_NE(dead[0].find("all 1 instance slots of the runtime are in use"), std::string::npos) << dead[0];
  auto counts = counts_by_tag(collected->records);
  EXPECT_EQ(counts["a"], one_to(5));
  EXPECT_EQ(counts["c"], one_to(5)) << "once flow 1 closed, flow 2 got an instance";
}
