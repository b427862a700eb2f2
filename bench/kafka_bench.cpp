// Records per second through a one-transform Kafka pipeline, topic to topic,
// on this machine: the enrich example plugin with one and with two group
// members, and the same transform written natively (C++) with one and two.
// Run by bench/kafka_bench.sh, which starts a broker (tests/kafka/broker.sh).
//
//   wasmplug_kafka_bench BROKERS ENRICH_WASM [RECORDS]
//
// Each case: a fresh group and output topic over the same input topic (4
// partitions, RECORDS JSON events); members are Pipelines in this process
// (threads = 2 each: the machine's cores); timed from the start until the
// output topic holds every record, group join included.
#include <librdkafka/rdkafka.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "kafka/client.hpp"
#include "kafka/producer.hpp"
#include "kafka/stages.hpp"
#include "wasmplug/pipeline.hpp"

namespace {

using namespace std::chrono_literals;
using wasmplug::Result;
namespace kafka = wasmplug::kafka;
namespace pipeline = wasmplug::pipeline;

constexpr int kPartitions = 4;
std::string g_brokers;

kafka::detail::KafkaPtr admin() {
  auto conf = kafka::detail::make_conf({{"bootstrap.servers", g_brokers}}, {});
  std::array<char, 512> reason{};
  return kafka::detail::KafkaPtr(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), reason.data(), reason.size()));
}

bool create_topic(const std::string& topic) {
  auto rk = admin();
  std::array<char, 512> reason{};
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), kPartitions, 1, reason.data(), reason.size());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_CreateTopics(rk.get(), &nt, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  const bool ok = event != nullptr && rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (event != nullptr) {
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(nt);
  return ok;
}

std::int64_t topic_size(rd_kafka_t* rk, const std::string& topic) {
  std::int64_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return -1;
    }
    total += high;
  }
  return total;
}

// enrich.c in C++: "latency_class" from "latency_ms", "alert" from "level".
class NativeEnrich final : public pipeline::Processor {
 public:
  Result<pipeline::Verdict> process(std::string_view in, std::string& out) const override {
    const auto close = in.rfind('}');
    if (in.empty() || in.front() != '{' || close == std::string_view::npos) {
      return wasmplug::Error{wasmplug::ErrorKind::GuestError, wasmplug::Phase::Call, "", "", "not a JSON object"};
    }
    const auto at = in.find("\"latency_ms\":");
    const char* cls = nullptr;
    if (at != std::string_view::npos) {
      const long ms = std::strtol(in.data() + at + 13, nullptr, 10);
      cls = ms < 50 ? "fast" : ms < 200 ? "ok" : "slow";
    }
    const bool alert = in.find("\"level\":\"error\"") != std::string_view::npos ||
                       in.find("\"level\":\"fatal\"") != std::string_view::npos;
    out.append(in.substr(0, close));
    if (cls != nullptr) {
      out.append(",\"latency_class\":\"").append(cls).append("\"");
    }
    out.append(alert ? ",\"alert\":true" : ",\"alert\":false");
    out.append(in.substr(close));
    return pipeline::Verdict::Emit;
  }
};

struct Rates {
  double total = 0;      // from the start, group join included
  double streaming = 0;  // from the first output record to the last
};

Rates run_case(const std::string& in, const std::string& wasm, bool native, int members, int records, int n) {
  const std::string out = "bench-out-" + std::to_string(n) + "-" + std::to_string(std::time(nullptr));
  const std::string group = "bench-" + std::to_string(n) + "-" + std::to_string(std::time(nullptr));
  if (!create_topic(out)) {
    std::fprintf(stderr, "cannot create topic %s\n", out.c_str());
    return {};
  }
  const std::string toml = "[pipeline]\nthreads = 2\n\n[source]\ntype = \"kafka\"\nbrokers = \"" + g_brokers +
                           "\"\ngroup = \"" + group + "\"\ntopics = \"" + in + "\"\n\n[[processor]]\nname = \"enrich\"\n" +
                           (native ? std::string("type = \"native\"\n") : "path = \"" + wasm + "\"\ndeadline_ms = 2000\n") +
                           "\n[sink]\ntype = \"kafka\"\ntopic = \"" + out + "\"\n";
  auto spec = pipeline::parse_pipeline(toml, "bench.toml");
  if (!spec) {
    std::fprintf(stderr, "%s\n", spec.error().to_string().c_str());
    return {};
  }
  // One runtime per member, as two processes would have (members sharing
  // one runtime would share its warm-instance pool).
  std::vector<std::unique_ptr<wasmplug::Runtime>> runtimes;
  std::map<std::string, pipeline::ProcessorFactory> factories{
      {"native", [](const std::string&, const std::map<std::string, std::string>&)
                     -> Result<std::unique_ptr<pipeline::Processor>> {
                   return std::unique_ptr<pipeline::Processor>(std::make_unique<NativeEnrich>());
                 }}};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<pipeline::Pipeline>> pipelines;
  std::vector<std::thread> threads;
  for (int m = 0; m < members; ++m) {
    runtimes.push_back(std::move(wasmplug::Runtime::create({})).value());
    auto built = pipeline::build_pipeline(*spec, *runtimes.back(), factories, &kafka::make_kafka_stages);
    if (!built) {
      std::fprintf(stderr, "%s\n", built.error().to_string().c_str());
      return {};
    }
    pipelines.push_back(std::move(built).value());
  }
  for (auto& p : pipelines) {
    threads.emplace_back([&p] { static_cast<void>(p->run()); });
  }
  auto rk = admin();
  std::int64_t done = 0;
  std::chrono::steady_clock::time_point first_out{};
  while ((done = topic_size(rk.get(), out)) < records && std::chrono::steady_clock::now() - start < 300s) {
    if (done > 0 && first_out == std::chrono::steady_clock::time_point{}) {
      first_out = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(20ms);
  }
  if (done < records) {
    std::fprintf(stderr, "case %d: only %lld of %d records came out within 300 s\n", n, static_cast<long long>(done),
                 records);
    return {};
  }
  const auto end = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(end - start).count();
  const double streaming = std::chrono::duration<double>(end - first_out).count();
  for (auto& p : pipelines) {
    p->stop();
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& p : pipelines) {
    if (p->stats().failed != 0) {
      std::fprintf(stderr, "case %d: %llu records failed\n", n, static_cast<unsigned long long>(p->stats().failed));
      return {};
    }
  }
  return {records / seconds, records / streaming};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: wasmplug_kafka_bench BROKERS ENRICH_WASM [RECORDS]\n");
    return 2;
  }
  g_brokers = argv[1];
  const std::string wasm = argv[2];
  const int records = argc > 3 ? std::atoi(argv[3]) : 500000;
  const std::string in = "bench-in-" + std::to_string(std::time(nullptr));
  if (!create_topic(in)) {
    std::fprintf(stderr, "cannot create the input topic\n");
    return 1;
  }
  {
    auto p = kafka::Producer::create({{{"bootstrap.servers", g_brokers}, {"linger.ms", "20"}}});
    for (int i = 0; i < records; ++i) {
      kafka::Record r;
      r.key = "k" + std::to_string(i);
      r.value = R"({"id":)" + std::to_string(i) + R"(,"level":")" + (i % 50 == 0 ? "error" : "info") +
                R"(","path":"/api/v1/items","latency_ms":)" + std::to_string(i % 300) + "}";
      static_cast<void>((*p)->produce(in, r, nullptr));
    }
    static_cast<void>((*p)->flush(600s));
  }
  std::printf("| transform | members | records | records/s (start to end, group join included) | records/s (first output to last) |\n"
              "| --- | --- | --- | --- | --- |\n");
  int n = 0;
  for (bool native : {false, true}) {
    for (int members : {1, 2}) {
      const Rates rate = run_case(in, wasm, native, members, records, n++);
      std::printf("| %s | %d | %d | %.0f | %.0f |\n", native ? "native C++ enrich" : "enrich.wasm (C plugin, warm)",
                  members, records, rate.total, rate.streaming);
      std::fflush(stdout);
    }
  }
  return 0;
}
