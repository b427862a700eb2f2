// The issue's scenarios: Kafka pipelines (`wasmplug pipeline run` with a
// Kafka source, sink and dead-letter topic) against a real broker (the
// kafka_broker CTest fixture), with the enrich example plugin as the
// transform. Every input record is a JSON object with a unique "id"; the
// enrich plugin keeps it, so outputs are matched to inputs by id.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/producer.hpp"
#include "kafka/stages.hpp"
#include "wasmplug/pipeline.hpp"
#include "kafka_test_util.hpp"

extern char** environ;

namespace wasmplug::kafka {
namespace {

using namespace std::chrono_literals;
using testing::bootstrap;
using testing::create_topic;
using testing::read_all;
using testing::topic_size;
using testing::unique_name;

constexpr int kPartitions = 4;

// A `wasmplug pipeline run --json FILE` child process.
class PipelineProcess {
 public:
  PipelineProcess(const std::string& toml, const std::filesystem::path& dir, const std::string& name)
      : dir_(dir), name_(name) {
    const auto file = dir / (name + ".toml");
    std::ofstream(file) << toml;
    const std::string out = (dir / (name + ".out")).string();
    const std::string err = (dir / (name + ".err")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::string cli = WASMPLUG_CLI;
    std::string path = file.string();
    std::vector<char*> argv{cli.data(), const_cast<char*>("pipeline"), const_cast<char*>("run"),
                            const_cast<char*>("--json"), path.data(), nullptr};
    if (posix_spawn(&pid_, cli.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~PipelineProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  [[nodiscard]] bool started() const { return pid_ > 0; }
  void signal(int signo) const { kill(pid_, signo); }
  /// Waits for the exit; returns the wait status (or -1 after `timeout`).
  int wait(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  [[nodiscard]] std::string output(const char* which) const {
    std::ifstream in(dir_ / (name_ + which));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::filesystem::path dir_;
  std::string name_;
  pid_t pid_ = -1;
};

class KafkaPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bootstrap().empty()) {
      GTEST_SKIP() << "no broker: run through ctest (fixture kafka_broker) or set WASMPLUG_KAFKA_BROKER_DIR";
    }
    dir_ = std::filesystem::temp_directory_path() / unique_name("wasmplug-kafka");
    std::filesystem::create_directories(dir_);
    in_ = unique_name("in");
    out_ = unique_name("out");
    dlq_ = unique_name("dlq");
    group_ = unique_name("group");
    for (const auto& t : {in_, out_, dlq_}) {
      ASSERT_TRUE(create_topic(t, kPartitions)) << t;
    }
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) {
      std::filesystem::remove_all(dir_);
    }
  }

  // Produces records id 0..n-1 (key "k<id>", header "origin"); a record
  // whose id is a multiple of `bad_every` (when > 0) is not JSON.
  void produce_input(int n, int bad_every = 0, int first = 0) const {
    auto p = Producer::create({{{"bootstrap.servers", bootstrap()}, {"linger.ms", "20"}}});
    ASSERT_TRUE(p.ok());
    std::atomic<int> ok{0};
    for (int i = first; i < first + n; ++i) {
      Record r;
      r.key = "k" + std::to_string(i);
      r.headers = {{"origin", "test"}};
      const std::string id = std::to_string(i);
      r.value = bad_every > 0 && i % bad_every == 0
                    ? "not json " + id
                    : R"({"id":)" + id + R"(,"level":"info","latency_ms":)" + std::to_string(i % 300) + "}";
      ASSERT_TRUE((*p)->produce(in_, r, [&](const Result<void>& d) { ok += d.ok() ? 1 : 0; }).ok());
    }
    ASSERT_TRUE((*p)->flush(120s).ok());
    ASSERT_EQ(ok.load(), n);
  }

  [[nodiscard]] std::string pipeline_toml(bool dead_letter_topic) const {
    std::string toml = "[pipeline]\nthreads = 2\ndead_letter = \"" + (dir_ / "dead.jsonl").string() +
                       "\"\n\n[source]\ntype = \"kafka\"\nbrokers = \"" + bootstrap() + "\"\ngroup = \"" + group_ +
                       "\"\ntopics = [\"" + in_ + "\"]\n\n[source.properties]\n\"session.timeout.ms\" = \"6000\"\n"
                       "\"heartbeat.interval.ms\" = \"500\"\n\n[[processor]]\nname = \"enrich\"\npath = \"" +
                       std::string(WASMPLUG_EXAMPLE_DIR) + "/enrich.wasm\"\n\n[sink]\ntype = \"kafka\"\ntopic = \"" +
                       out_ + "\"\n";
    if (dead_letter_topic) {
      toml += "\n[dead_letter]\ntype = \"kafka\"\ntopic = \"" + dlq_ + "\"\n";
    }
    return toml;
  }

  // Waits until `topic` holds at least `n` records; false after `timeout`.
  static bool wait_for(const std::string& topic, std::int64_t n, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (topic_size(topic, kPartitions) >= n) {
        return true;
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  // Waits until every id 0..n-1 is in the output (duplicates make the topic
  // reach n records before that); false after `timeout`.
  [[nodiscard]] bool wait_for_every_id(int n, std::chrono::seconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (wait_for(out_, n, 5s) && tally().seen.size() >= static_cast<std::size_t>(n)) {
        return true;
      }
      std::this_thread::sleep_for(1s);
    }
    return false;
  }

  struct Tally {
    std::map<int, int> seen;  // id -> times in the output
    int duplicates = 0;
    int bad_keys = 0;  // output key differs from the input's, or the header is missing
  };
  // Reads `out_` and counts every id; checks key and header passthrough.
  [[nodiscard]] Tally tally() const {
    Tally t;
    for (const Record& r : read_all(out_, kPartitions)) {
      const auto at = r.value.find(R"("id":)");
      if (at == std::string::npos) {
        continue;
      }
      const int id = std::stoi(r.value.substr(at + 5));
      if (++t.seen[id] > 1) {
        ++t.duplicates;
      }
      bool header = false;
      for (const auto& h : r.headers) {
        header = header || (h.key == "origin" && h.value == "test");
      }
      if (r.key != "k" + std::to_string(id) || !header) {
        ++t.bad_keys;
      }
    }
    return t;
  }

  std::filesystem::path dir_;
  std::string in_;
  std::string out_;
  std::string dlq_;
  std::string group_;
};

TEST_F(KafkaPipeline, HundredThousandRecordsThroughATransformEveryOffsetAccountedFor) {
  constexpr int kRecords = 100'000;
  produce_input(kRecords);
  PipelineProcess p(pipeline_toml(false), dir_, "p");
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(wait_for(out_, kRecords, 240s)) << p.output(".err");
  p.signal(SIGTERM);
  const int status = p.wait(60s);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << p.output(".err");
  const Tally t = tally();
  EXPECT_EQ(t.seen.size(), static_cast<std::size_t>(kRecords)) << "input records without output";
  EXPECT_EQ(t.duplicates, 0) << "one member, no failure: no record twice";
  EXPECT_EQ(t.bad_keys, 0) << "key and headers passed through";
  const std::string summary = p.output(".err");  // the summary goes to stderr
  EXPECT_NE(summary.find(R"("records_in":100000,"out":100000,"dropped":0,"failed":0)"), std::string::npos)
      << summary;
}

TEST_F(KafkaPipeline, TwoMembersOneKilledEveryRecordAtLeastOnce) {
  constexpr int kRecords = 60'000;
  // The input keeps arriving while the members work (a third at first, the
  // rest over about six seconds), so b is killed mid-stream.
  produce_input(kRecords / 3);
  PipelineProcess a(pipeline_toml(false), dir_, "a");
  PipelineProcess b(pipeline_toml(false), dir_, "b");
  ASSERT_TRUE(a.started() && b.started());
  std::thread more([&] {
    for (int i = 1; i <= 20; ++i) {
      produce_input(kRecords * 2 / 3 / 20, 0, kRecords / 3 + (i - 1) * (kRecords * 2 / 3 / 20));
      std::this_thread::sleep_for(300ms);
    }
  });
  // b owns partitions and has been working for a while: it dies without a goodbye.
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (b.output(".err").find("assigned " + in_) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(b.output(".err").find("assigned " + in_), std::string::npos) << b.output(".err");
  std::this_thread::sleep_for(2500ms);
  b.signal(SIGKILL);
  EXPECT_NE(b.wait(30s), -1);
  more.join();
  // a takes b's partitions over (after the session timeout) and finishes.
  ASSERT_TRUE(wait_for_every_id(kRecords, 240s)) << a.output(".err");
  // The duplicates come after b's last commit: wait until a is quiet.
  std::int64_t size = topic_size(out_, kPartitions);
  for (int quiet = 0; quiet < 3;) {
    std::this_thread::sleep_for(1s);
    const std::int64_t now = topic_size(out_, kPartitions);
    quiet = now == size ? quiet + 1 : 0;
    size = now;
  }
  a.signal(SIGTERM);
  EXPECT_NE(a.wait(60s), -1);
  const Tally t = tally();
  EXPECT_EQ(t.seen.size(), static_cast<std::size_t>(kRecords)) << "input records lost";
  EXPECT_EQ(t.bad_keys, 0);
  EXPECT_NE(a.output(".err").find("revoked"), std::string::npos) << "a never took b's partitions over";
  RecordProperty("duplicates", t.duplicates);
  std::printf("two members, one killed: %d records, %d in the output, %d duplicates (at-least-once)\n", kRecords,
              static_cast<int>(size), t.duplicates);
  EXPECT_EQ(size, kRecords + t.duplicates);
}

TEST_F(KafkaPipeline, FailingRecordsLandInTheDeadLetterTopicWithHeaders) {
  constexpr int kRecords = 10'000;
  constexpr int kBadEvery = 100;  // 100 records are not JSON: enrich fails them
  produce_input(kRecords, kBadEvery);
  PipelineProcess p(pipeline_toml(true), dir_, "p");
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(wait_for(out_, kRecords - kRecords / kBadEvery, 240s)) << p.output(".err");
  ASSERT_TRUE(wait_for(dlq_, kRecords / kBadEvery, 60s)) << p.output(".err");
  p.signal(SIGTERM);
  EXPECT_NE(p.wait(60s), -1);
  const Tally t = tally();
  EXPECT_EQ(t.seen.size(), static_cast<std::size_t>(kRecords - kRecords / kBadEvery));
  EXPECT_EQ(t.duplicates, 0);
  const auto dead = read_all(dlq_, kPartitions);
  ASSERT_EQ(dead.size(), static_cast<std::size_t>(kRecords / kBadEvery));
  std::set<std::string> values;
  for (const Record& r : dead) {
    values.insert(r.value);
    std::map<std::string, std::string> h;
    for (const auto& header : r.headers) {
      h[header.key] = header.value.value_or("");
    }
    EXPECT_EQ(h["wasmplug.error.kind"], "GuestError") << r.value;
    EXPECT_EQ(h["wasmplug.error.phase"], "call");
    EXPECT_NE(h["wasmplug.error.message"].find("not a JSON object"), std::string::npos) << h["wasmplug.error.message"];
    EXPECT_EQ(h["wasmplug.stage"], "enrich");
    EXPECT_EQ(h["wasmplug.source.topic"], in_);
    EXPECT_EQ(h["origin"], "test") << "the input's headers are kept";
    EXPECT_EQ(r.key, "k" + r.value.substr(9)) << "the input's key is kept";
  }
  EXPECT_EQ(values.size(), dead.size());
  EXPECT_TRUE(values.contains("not json 0"));
  EXPECT_TRUE(values.contains("not json 9900"));
}

TEST_F(KafkaPipeline, BrokerRestartMidRunThePipelineWaitsAndResumesWithoutLoss) {
  constexpr int kRecords = 50'000;
  produce_input(kRecords);
  PipelineProcess p(pipeline_toml(false), dir_, "p");
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(wait_for(out_, kRecords / 10, 240s)) << p.output(".err");
  ASSERT_EQ(testing::broker("stop"), 0);
  std::this_thread::sleep_for(3s);
  ASSERT_EQ(testing::broker("start"), 0);
  // After the restart the group may rejoin and consume again from the last
  // commit: duplicates fill the topic before every record is through.
  ASSERT_TRUE(wait_for_every_id(kRecords, 240s)) << p.output(".err");
  p.signal(SIGTERM);
  const int status = p.wait(60s);
  EXPECT_NE(status, -1);
  const Tally t = tally();
  EXPECT_EQ(t.seen.size(), static_cast<std::size_t>(kRecords)) << "records lost across the restart";
  std::printf("broker restart: %d records, %d duplicates\n", kRecords, t.duplicates);
  EXPECT_EQ(t.bad_keys, 0);
}

// A stateful plugin (count_tag: "<input>#<calls into this instance>") in a
// group whose membership changes: one member, a second joins, it leaves.
// Each partition's records go to an instance of that partition alone, so a
// partition's counts are runs 1..n, one per instance that served it; the
// rebalances (eager: every partition is revoked, then assigned) give each
// partition new instances. With instances shared by the partitions the
// counts of a partition would have gaps.
TEST_F(KafkaPipeline, PerPartitionInstancesFollowTheRebalance) {
  constexpr int kPhase = 2000;
  auto produce_phase = [&](int phase) {
    auto p = Producer::create({{{"bootstrap.servers", bootstrap()}, {"linger.ms", "20"}}});
    ASSERT_TRUE(p.ok());
    std::atomic<int> ok{0};
    for (int i = phase * kPhase; i < (phase + 1) * kPhase; ++i) {
      Record r;
      r.key = "k" + std::to_string(i);
      r.value = "r" + std::to_string(i);
      ASSERT_TRUE((*p)->produce(in_, r, [&](const Result<void>& d) { ok += d.ok() ? 1 : 0; }).ok());
    }
    ASSERT_TRUE((*p)->flush(120s).ok());
    ASSERT_EQ(ok.load(), kPhase);
  };
  std::string toml = pipeline_toml(false);
  const std::string enrich = std::string(WASMPLUG_EXAMPLE_DIR) + "/enrich.wasm";
  toml.replace(toml.find(enrich), enrich.size(), std::string(WASMPLUG_GUEST_DIR) + "/guest_count_tag.wasm");
  auto outputs = [&] { return read_all(out_, kPartitions); };
  auto wait_outputs = [&](std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 180s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (topic_size(out_, kPartitions) >= static_cast<std::int64_t>(n)) {
        return true;
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  };
  auto wait_text = [](const PipelineProcess& p, const std::string& text, std::size_t times) {
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string err = p.output(".err");
      std::size_t found = 0;
      for (auto at = err.find(text); at != std::string::npos; at = err.find(text, at + 1)) {
        ++found;
      }
      if (found >= times) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };

  produce_phase(0);
  PipelineProcess a(toml, dir_, "a");
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(wait_outputs(kPhase)) << a.output(".err");
  {
    PipelineProcess b(toml, dir_, "b");
    ASSERT_TRUE(b.started());
    ASSERT_TRUE(wait_text(b, "assigned " + in_, 1)) << b.output(".err");
    ASSERT_TRUE(wait_text(a, "assigned " + in_, 2)) << a.output(".err");
    produce_phase(1);
    ASSERT_TRUE(wait_outputs(2 * kPhase)) << a.output(".err") << b.output(".err");
    b.signal(SIGTERM);  // b leaves the group: a takes every partition again
    EXPECT_NE(b.wait(60s), -1);
  }
  ASSERT_TRUE(wait_text(a, "assigned " + in_, 3)) << a.output(".err");
  produce_phase(2);
  ASSERT_TRUE(wait_outputs(3 * kPhase)) << a.output(".err");
  a.signal(SIGTERM);
  EXPECT_NE(a.wait(60s), -1);

  std::map<std::string, int> partition_of;  // input value -> its partition
  for (const Record& r : read_all(in_, kPartitions)) {
    partition_of[r.value] = r.partition;
  }
  ASSERT_EQ(partition_of.size(), static_cast<std::size_t>(3 * kPhase));
  std::map<int, std::map<int, int>> times;  // partition -> count -> records that got it
  std::set<std::string> seen;
  for (const Record& r : outputs()) {
    const auto hash = r.value.find('#');
    ASSERT_NE(hash, std::string::npos) << r.value;
    const std::string input = r.value.substr(0, hash);
    ASSERT_TRUE(partition_of.contains(input)) << r.value;
    seen.insert(input);
    ++times[partition_of[input]][std::stoi(r.value.substr(hash + 1))];
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(3 * kPhase)) << "every input record came out";
  ASSERT_EQ(times.size(), static_cast<std::size_t>(kPartitions));
  for (const auto& [partition, by_count] : times) {
    // Runs 1..n_k, one per instance: count c is had by as many records as
    // instances that made c calls, which never grows with c, and no count is skipped.
    int previous = by_count.begin()->second;
    EXPECT_EQ(by_count.begin()->first, 1) << "partition " << partition;
    int expected_count = 1;
    for (const auto& [count, records] : by_count) {
      EXPECT_EQ(count, expected_count++) << "partition " << partition << ": a count skipped";
      EXPECT_LE(records, previous) << "partition " << partition << " count " << count;
      previous = records;
    }
    // Served in each of the three memberships by a new instance.
    EXPECT_GE(by_count.at(1), 3) << "partition " << partition << ": instances that served it";
  }
}

// The pipeline's backpressure reaches Kafka: with a slow sink and a short
// queue the source pauses fetching of its partitions, and nothing is lost.
TEST_F(KafkaPipeline, AFullQueuePausesThePartitionsAndNothingIsLost) {
  constexpr int kRecords = 3'000;
  produce_input(kRecords);
  auto spec = pipeline::parse_pipeline("[source]\ntype = \"kafka\"\nbrokers = \"" + bootstrap() +
                                           "\"\ngroup = \"" + group_ + "\"\ntopics = \"" + in_ +
                                           "\"\nexit_after_idle_ms = 3000\nbackpressure_pause_ms = 10\n\n"
                                           "[sink]\ntype = \"stdout\"\n",
                                       "p.toml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto stages = make_kafka_stages(*spec);
  ASSERT_TRUE(stages.ok()) << stages.error().to_string();
  const pipeline::Source* source = stages->source.get();

  // Takes a batch, then holds the next one back for 30 ms: the queue stays
  // full longer than backpressure_pause_ms.
  class SlowSink final : public pipeline::Sink {
   public:
    Result<pipeline::SinkStatus> push(const pipeline::RecordBatch& batch) override {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch.entry(i).outcome == pipeline::Outcome::Out) {
          values.emplace(batch.record(i));
          ++written;
        }
      }
      return pipeline::SinkStatus::Pause;
    }
    Result<pipeline::SinkStatus> wait_ready(std::chrono::milliseconds) override {
      std::this_thread::sleep_for(30ms);
      return pipeline::SinkStatus::Ready;
    }
    Result<void> complete() override { return {}; }
    std::set<std::string> values;
    std::size_t written = 0;
  };
  auto sink = std::make_unique<SlowSink>();
  SlowSink* slow = sink.get();
  pipeline::PipelineOptions options;
  options.threads = 1;
  options.batch_records = 100;
  options.queue_batches = 2;
  options.dead_letter = (dir_ / "dead.jsonl").string();
  auto p = pipeline::Pipeline::create(options, std::move(stages->source), {}, std::move(sink), "kafka", "slow");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  auto st = (*p)->run();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  const auto consumer = kafka_source_stats(*source);
  ASSERT_TRUE(consumer.has_value());
  EXPECT_GT(consumer->fetch_pauses, 0u) << "the partitions were paused while the queue was full";
  EXPECT_GT(st->stages.front().paused_seconds, 0.0);
  EXPECT_EQ(slow->values.size(), static_cast<std::size_t>(kRecords)) << "every record came out";
  EXPECT_EQ(slow->written, static_cast<std::size_t>(kRecords)) << "one member: none twice";
  EXPECT_EQ(st->records_in, static_cast<std::uint64_t>(kRecords));
  std::printf("slow sink: %d records, fetching paused %llu times\n", kRecords,
              static_cast<unsigned long long>(consumer->fetch_pauses));
}

// Pipeline files with Kafka stages: every mistake names the file, line and key.
// A torvyn component on the other side of a Kafka stage: a data-source
// component produces into a topic, and a Kafka source feeds a data-sink
// component; every record is accounted for on both ways.
TEST_F(KafkaPipeline, ComponentSourceIntoATopicAndATopicIntoAComponentSink) {
  if (!WASMPLUG_HAVE_COMPONENT_GUESTS) {
    GTEST_SKIP() << "the torvyn test components were not built";
  }
  constexpr int kRecords = 500;
  const std::string guests = WASMPLUG_TORVYN_GUEST_DIR;
  auto runtime = Runtime::create({});
  ASSERT_TRUE(runtime.ok());
  auto run = [&](const std::string& toml, bool until_stopped) -> Result<pipeline::PipelineStats> {
    auto spec = pipeline::parse_pipeline(toml, (dir_ / "p.toml").string());
    if (!spec) {
      return spec.error();
    }
    auto built = pipeline::build_pipeline(*spec, **runtime, {}, &make_kafka_stages);
    if (!built) {
      return built.error();
    }
    pipeline::Pipeline& p = **built;
    std::jthread stopper;
    if (until_stopped) {  // a Kafka source never ends: stop once every record came out
      stopper = std::jthread([&p] {
        const auto deadline = std::chrono::steady_clock::now() + 120s;
        while (p.stats().out < kRecords && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(100ms);
        }
        p.stop();
      });
    }
    return p.run();
  };
  auto into_topic = run("[pipeline]\ndead_letter = \"" + (dir_ / "dead1.jsonl").string() +
                            "\"\n[source]\ntype = \"component\"\npath = \"" + guests +
                            "/source.wasm\"\nconfig = '{\"count\": " + std::to_string(kRecords) +
                            "}'\n[sink]\ntype = \"kafka\"\nbrokers = \"" + bootstrap() + "\"\ntopic = \"" + in_ + "\"\n",
                        false);
  ASSERT_TRUE(into_topic.ok()) << into_topic.error().to_string();
  EXPECT_EQ(into_topic->out, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(topic_size(in_, kPartitions), kRecords);
  std::set<std::string> values;
  for (const Record& r : read_all(in_, kPartitions)) {
    values.insert(r.value);
  }
  EXPECT_EQ(values.size(), static_cast<std::size_t>(kRecords));
  EXPECT_TRUE(values.contains("event-0"));
  EXPECT_TRUE(values.contains("event-" + std::to_string(kRecords - 1)));

  auto from_topic = run("[pipeline]\ndead_letter = \"" + (dir_ / "dead2.jsonl").string() +
                            "\"\n[source]\ntype = \"kafka\"\nbrokers = \"" + bootstrap() + "\"\ngroup = \"" +
                            group_ + "\"\ntopics = \"" + in_ + "\"\n[source.properties]\n\"auto.offset.reset\" = "
                            "\"earliest\"\n[sink]\ntype = \"component\"\npath = \"" + guests + "/sink.wasm\"\n",
                        true);
  ASSERT_TRUE(from_topic.ok()) << from_topic.error().to_string();
  EXPECT_EQ(from_topic->records_in, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(from_topic->out, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(from_topic->failed, 0u);
  EXPECT_EQ(from_topic->stages.back().type, "component");
  EXPECT_EQ(from_topic->stages.back().out, static_cast<std::uint64_t>(kRecords));
}

TEST(KafkaPipelineConfig, MistakesNameTheFileLineAndKey) {
  auto fails_with = [](const std::string& toml, const std::string& expected) {
    auto spec = pipeline::parse_pipeline(toml, "p.toml");
    std::string message;
    if (!spec) {
      message = spec.error().message;
    } else {
      auto stages = make_kafka_stages(*spec);
      EXPECT_FALSE(stages.ok()) << toml;
      if (!stages.ok()) {
        EXPECT_EQ(stages.error().kind, ErrorKind::InvalidArgument);
        message = stages.error().message;
      }
    }
    EXPECT_NE(message.find(expected), std::string::npos) << "expected '" << expected << "' in: " << message;
  };
  const std::string sink = "\n[sink]\ntype = \"stdout\"\n";
  fails_with("[source]\ntype = \"kafka\"\ngroup = \"g\"\ntopics = \"t\"\n" + sink,
             "p.toml:1: [source] of type \"kafka\" needs key 'brokers'");
  fails_with("[source]\ntype = \"kafka\"\nbrokers = \"b:1\"\ngroup = \"g\"\ntopics = \"t\"\ngroops = 1\n" + sink,
             "[source] key 'groops' is unknown for type \"kafka\"");
  fails_with("[source]\ntype = \"kafka\"\nbrokers = \"b:1\"\ngroup = \"g\"\ntopics = \"t\"\n"
             "max_unacknowledged_per_partition = 0\n" + sink,
             "'max_unacknowledged_per_partition' must be an integer in 1..100000000, got '0'");
  fails_with("[source]\ntype = \"kafka\"\nbrokers = \"b:1\"\ngroup = \"g\"\ntopics = \"t\"\n"
             "backpressure_pause_ms = 60001\n" + sink,
             "'backpressure_pause_ms' must be an integer in 0..60000, got '60001'");
  fails_with("[source]\ntype = \"kafka\"\nbrokers = \"b:1\"\ngroup = \"g\"\ntopics = [\"t\", 3]\n" + sink,
             "p.toml:5: [source] key 'topics' must be a string or an array of non-empty strings");
  fails_with("[source]\ntype = \"kafka\"\nbrokers = \"b:1\"\ngroup = \"g\"\ntopics = \"t\"\n"
             "[source.properties]\n\"no.such.thing\" = \"1\"\n" + sink,
             "kafka property 'no.such.thing'");
  fails_with("[source]\ntype = \"stdin\"\n\n[sink]\ntype = \"kafka\"\ntopic = \"out\"\n",
             "p.toml:4: [sink] of type \"kafka\" needs key 'brokers'");
  fails_with("[source]\ntype = \"stdin\"\n\n[sink]\ntype = \"kafka\"\nbrokers = \"b:1\"\n",
             "[sink] of type \"kafka\" needs key 'topic'");
  fails_with("[source]\ntype = \"stdin\"\n" + sink + "\n[dead_letter]\ntype = \"kafka\"\ntopic = \"d\"\nbrokers = \"b:1\"\n",
             "[dead_letter] of type \"kafka\" needs a Kafka [source]");
  fails_with("[source]\ntype = \"stdin\"\n" + sink + "\n[dead_letter]\ntopic = \"d\"\n",
             "[dead_letter] needs key 'type'");
  fails_with("[source]\ntype = \"stdin\"\n" + sink + "\n[dead_letter]\ntype = \"file\"\n",
             "p.toml:8: [dead_letter] key 'type' must be \"kafka\", got 'file'");
  fails_with("[source]\ntype = \"kafak\"\n" + sink,
             "p.toml:2: [source] key 'type' must be one of file, stdin, component, kafka, got 'kafak'");
}

TEST(KafkaPipelineConfig, WithoutTheKafkaFactoryTheTypeIsNamedAsUnavailable) {
  auto spec = pipeline::parse_pipeline(
      "[source]\ntype = \"kafka\"\nbrokers = \"b:1\"\ngroup = \"g\"\ntopics = \"t\"\n\n[sink]\ntype = \"stdout\"\n",
      "p.toml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto runtime = Runtime::create({});
  ASSERT_TRUE(runtime.ok());
  auto built = pipeline::build_pipeline(*spec, **runtime);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(built.error().message.find("p.toml:1: type 'kafka' is not available"), std::string::npos)
      << built.error().message;
}

}  // namespace
}  // namespace wasmplug::kafka
