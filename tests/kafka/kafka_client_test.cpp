// The Kafka client layer (src/kafka) against a real broker (the kafka_broker
// CTest fixture), and the offset tracker on its own.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/consumer.hpp"
#include "kafka/offset_tracker.hpp"
#include "kafka/producer.hpp"
#include "kafka_test_util.hpp"

namespace wasmplug::kafka {
namespace {

using namespace std::chrono_literals;
using testing::bootstrap;
using testing::create_topic;
using testing::read_all;
using testing::unique_name;

class KafkaClient : public ::testing::Test {
 protected:
  void SetUp() override {
    if (bootstrap().empty()) {
      GTEST_SKIP() << "no broker: run through ctest (fixture kafka_broker) or set WASMPLUG_KAFKA_BROKER_DIR";
    }
  }
  static std::unique_ptr<Producer> producer() {
    auto p = Producer::create({{{"bootstrap.servers", bootstrap()}}});
    EXPECT_TRUE(p.ok()) << p.error().to_string();
    return std::move(p).value();
  }
  // Produces `n` records key-i/value-i to `topic` and waits for all of them.
  static void produce_n(const std::string& topic, int n, int first = 0) {
    auto p = producer();
    std::atomic<int> ok{0};
    for (int i = first; i < first + n; ++i) {
      Record r;
      r.key = "key-" + std::to_string(i);
      r.value = "value-" + std::to_string(i);
      ASSERT_TRUE(p->produce(topic, r, [&](const Result<void>& d) { ok += d.ok() ? 1 : 0; }).ok());
    }
    ASSERT_TRUE(p->flush(60s).ok());
    ASSERT_EQ(ok.load(), n);
  }
  static ConsumerConfig consumer_config(const std::string& topic, const std::string& group) {
    ConsumerConfig c;
    c.properties = {{"bootstrap.servers", bootstrap()}, {"session.timeout.ms", "6000"},
                    {"heartbeat.interval.ms", "500"}};
    c.group = group;
    c.topics = {topic};
    return c;
  }
};

TEST(OffsetTracker, CommitsOnlyTheContiguousAcknowledgedPrefix) {
  OffsetTracker t;
  for (std::int64_t o : {10, 11, 13, 14}) {  // 12: a gap (compacted away)
    t.handed_out(o);
  }
  EXPECT_FALSE(t.commit_position());
  EXPECT_TRUE(t.acknowledge(11));
  EXPECT_TRUE(t.acknowledge(13));
  EXPECT_FALSE(t.commit_position()) << "10 is not acknowledged: nothing may be committed";
  EXPECT_EQ(t.lowest_unacknowledged(), 10);
  EXPECT_TRUE(t.acknowledge(10));
  EXPECT_EQ(t.commit_position(), 14) << "10, 11 and 13 done, 14 is next";
  EXPECT_EQ(t.lowest_unacknowledged(), 14);
  EXPECT_FALSE(t.acknowledge(13)) << "twice";
  EXPECT_FALSE(t.acknowledge(12)) << "never handed out";
  EXPECT_EQ(t.unacknowledged(), 1U);
  EXPECT_TRUE(t.acknowledge(14));
  EXPECT_EQ(t.commit_position(), 15);
  EXPECT_EQ(t.unacknowledged(), 0U);
}

TEST_F(KafkaClient, BadConfigurationIsRefusedNamingTheField) {
  auto no_brokers = Consumer::create(ConsumerConfig{{}, "g", {"t"}}, {});
  ASSERT_FALSE(no_brokers.ok());
  EXPECT_EQ(no_brokers.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(no_brokers.error().message.find("bootstrap.servers"), std::string::npos);
  auto no_group = Consumer::create(ConsumerConfig{{{"bootstrap.servers", bootstrap()}}, "", {"t"}}, {});
  ASSERT_FALSE(no_group.ok());
  EXPECT_NE(no_group.error().message.find("'group'"), std::string::npos);
  auto no_topics = Consumer::create(ConsumerConfig{{{"bootstrap.servers", bootstrap()}}, "g", {}}, {});
  ASSERT_FALSE(no_topics.ok());
  EXPECT_NE(no_topics.error().message.find("'topics'"), std::string::npos);
  auto c = consumer_config("t", "g");
  c.max_unacknowledged_per_partition = 0;
  auto zero = Consumer::create(c, {});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("max_unacknowledged_per_partition"), std::string::npos);
  auto unknown = Producer::create({{{"bootstrap.servers", bootstrap()}, {"no.such.property", "1"}}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(unknown.error().message.find("'no.such.property'"), std::string::npos) << unknown.error().message;
  auto bad_value = Producer::create({{{"bootstrap.servers", bootstrap()}, {"linger.ms", "soon"}}});
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.error().message.find("'linger.ms'"), std::string::npos) << bad_value.error().message;
}

TEST_F(KafkaClient, ProducesAndConsumesKeyValueAndHeaders) {
  const std::string topic = unique_name("roundtrip");
  ASSERT_TRUE(create_topic(topic, 2));
  auto p = producer();
  Record with_all;
  with_all.key = "k1";
  with_all.value = std::string("binary\0value", 12);
  with_all.headers = {{"trace", "abc"}, {"empty", ""}, {"null", std::nullopt}, {"trace", "dup"}};
  Record no_key;
  no_key.value = "v2";
  std::atomic<int> delivered{0};
  ASSERT_TRUE(p->produce(topic, with_all, [&](const Result<void>& r) { delivered += r.ok() ? 1 : 0; }).ok());
  ASSERT_TRUE(p->produce(topic, no_key, [&](const Result<void>& r) { delivered += r.ok() ? 1 : 0; }).ok());
  ASSERT_TRUE(p->flush(30s).ok());
  EXPECT_EQ(delivered.load(), 2);

  auto consumer = Consumer::create(consumer_config(topic, unique_name("g")), {});
  ASSERT_TRUE(consumer.ok()) << consumer.error().to_string();
  std::vector<Record> got;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    auto r = (*consumer)->poll(200ms);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    if (*r) {
      got.push_back(**r);
    }
  }
  ASSERT_EQ(got.size(), 2U);
  const Record& a = got[0].key ? got[0] : got[1];
  const Record& b = got[0].key ? got[1] : got[0];
  EXPECT_EQ(a.key, "k1");
  EXPECT_EQ(a.value, with_all.value);
  EXPECT_EQ(a.headers, with_all.headers);
  EXPECT_EQ(a.topic, topic);
  EXPECT_GE(a.offset, 0);
  EXPECT_FALSE(b.key.has_value()) << "a null key stays null, not empty";
  EXPECT_EQ(b.value, "v2");
  EXPECT_TRUE(b.headers.empty());
}

TEST_F(KafkaClient, CommitsOnlyAcknowledgedOffsets) {
  const std::string topic = unique_name("commit");
  const std::string group = unique_name("g");
  ASSERT_TRUE(create_topic(topic, 1));
  produce_n(topic, 10);
  {
    auto consumer = Consumer::create(consumer_config(topic, group), {});
    ASSERT_TRUE(consumer.ok());
    std::vector<Record> got;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (got.size() < 10 && std::chrono::steady_clock::now() < deadline) {
      auto r = (*consumer)->poll(200ms);
      ASSERT_TRUE(r.ok());
      if (*r) {
        got.push_back(**r);
      }
    }
    ASSERT_EQ(got.size(), 10U);
    // 0, 1, 2 and 4 acknowledged; 3 is not: the commit must stop at 3.
    for (int i : {0, 1, 2, 4, 5}) {
      (*consumer)->ack(got[static_cast<std::size_t>(i)].topic_partition(), got[static_cast<std::size_t>(i)].offset);
    }
    ASSERT_TRUE((*consumer)->commit(true).ok());
    EXPECT_EQ((*consumer)->committed().at({topic, 0}), 3);
    ASSERT_TRUE((*consumer)->close().ok());
  }
  // The next member of the group starts at the first unacknowledged record.
  auto next = Consumer::create(consumer_config(topic, group), {});
  ASSERT_TRUE(next.ok());
  std::optional<Record> first;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!first && std::chrono::steady_clock::now() < deadline) {
    auto r = (*next)->poll(200ms);
    ASSERT_TRUE(r.ok());
    first = *r;
  }
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->offset, 3);
  EXPECT_EQ(first->value, "value-3");
}

TEST_F(KafkaClient, PausesAPartitionWithTooManyUnacknowledgedRecords) {
  const std::string topic = unique_name("pause");
  ASSERT_TRUE(create_topic(topic, 1));
  produce_n(topic, 200);
  auto config = consumer_config(topic, unique_name("g"));
  config.max_unacknowledged_per_partition = 20;
  auto consumer = Consumer::create(config, {});
  ASSERT_TRUE(consumer.ok());
  std::vector<Record> got;
  // Without acknowledgements the partition pauses: far fewer than 200 arrive.
  auto until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until) {
    auto r = (*consumer)->poll(100ms);
    ASSERT_TRUE(r.ok());
    if (*r) {
      got.push_back(**r);
    }
  }
  EXPECT_GE(got.size(), 20U);
  EXPECT_LT(got.size(), 200U) << "never paused";
  EXPECT_GE((*consumer)->stats().pauses, 1U);
  // Acknowledged, it resumes and the rest arrives.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::size_t acked = 0;
  while (got.size() < 200 && std::chrono::steady_clock::now() < deadline) {
    for (; acked < got.size(); ++acked) {
      (*consumer)->ack(got[acked].topic_partition(), got[acked].offset);
    }
    auto r = (*consumer)->poll(100ms);
    ASSERT_TRUE(r.ok());
    if (*r) {
      got.push_back(**r);
    }
  }
  EXPECT_EQ(got.size(), 200U);
}

TEST_F(KafkaClient, RebalanceSplitsPartitionsAndTheRevokedAreDrainedBeforeHandOver) {
  const std::string topic = unique_name("rebalance");
  const std::string group = unique_name("g");
  constexpr int kPartitions = 4;
  constexpr int kRecords = 2000;
  ASSERT_TRUE(create_topic(topic, kPartitions));
  produce_n(topic, kRecords);

  // Member a acknowledges records only when told (held_ models records in a
  // pipeline); on revoke it finishes what it holds of the revoked partitions.
  std::mutex mutex;
  std::multiset<std::string> seen;  // values, across both members
  std::atomic<int> revoked_events{0};
  std::unique_ptr<Consumer> a;
  std::vector<Record> held;
  PartitionEvents a_events;
  a_events.revoked = [&](const std::vector<TopicPartition>& parts) {
    ++revoked_events;
    for (const auto& r : held) {
      for (const auto& tp : parts) {
        if (r.topic_partition() == tp) {
          a->ack(tp, r.offset);
        }
      }
    }
  };
  auto created = Consumer::create(consumer_config(topic, group), a_events);
  ASSERT_TRUE(created.ok());
  a = std::move(created).value();
  // a takes every partition and holds up to 100 records unacknowledged.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (held.size() < 100 && std::chrono::steady_clock::now() < deadline) {
    auto r = a->poll(100ms);
    ASSERT_TRUE(r.ok());
    if (*r) {
      held.push_back(**r);
      std::lock_guard lock(mutex);
      seen.insert((*r)->value);
    }
  }
  ASSERT_EQ(held.size(), 100U);
  EXPECT_EQ(a->assignment().size(), static_cast<std::size_t>(kPartitions));

  std::atomic<bool> stop{false};
  std::thread b_thread([&] {
    auto b = Consumer::create(consumer_config(topic, group), {});
    ASSERT_TRUE(b.ok());
    while (!stop) {
      auto r = (*b)->poll(100ms);
      ASSERT_TRUE(r.ok());
      if (*r) {
        (*b)->ack((*r)->topic_partition(), (*r)->offset);
        std::lock_guard lock(mutex);
        seen.insert((*r)->value);
      }
    }
    ASSERT_TRUE((*b)->close().ok());
  });
  // a keeps consuming (acknowledging at once now) while b joins.
  deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = a->poll(100ms);
    ASSERT_TRUE(r.ok());
    if (*r) {
      a->ack((*r)->topic_partition(), (*r)->offset);
      std::lock_guard lock(mutex);
      seen.insert((*r)->value);
    }
    std::lock_guard lock(mutex);
    std::set<std::string> distinct(seen.begin(), seen.end());
    if (distinct.size() == kRecords && revoked_events > 0) {
      break;
    }
  }
  stop = true;
  b_thread.join();
  EXPECT_GE(revoked_events.load(), 1) << "b never joined";
  EXPECT_LT(a->assignment().size(), static_cast<std::size_t>(kPartitions)) << "a kept every partition";
  std::set<std::string> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kRecords)) << "records lost";
  // a finished the held records on revoke and committed them: b consumed none of them again.
  EXPECT_EQ(seen.size(), distinct.size()) << (seen.size() - distinct.size()) << " records consumed twice";
  EXPECT_EQ(a->stats().drain_timeouts, 0U);
  ASSERT_TRUE(a->close().ok());
}

TEST_F(KafkaClient, DeadLetterRecordCarriesTheErrorInHeaders) {
  const std::string topic = unique_name("dlq");
  ASSERT_TRUE(create_topic(topic, 1));
  Record input;
  input.topic = "in";
  input.partition = 3;
  input.offset = 42;
  input.key = "k";
  input.value = "bad";
  input.headers = {{"trace", "t1"}};
  DeadLetterReason reason{"Trap", "call", "wasm trap: unreachable", "transform[0]"};
  auto p = producer();
  std::atomic<bool> ok{false};
  ASSERT_TRUE(p->produce(topic, dead_letter_record(input, reason), [&](const Result<void>& r) {
                 ok = r.ok();
               }).ok());
  ASSERT_TRUE(p->flush(30s).ok());
  ASSERT_TRUE(ok);
  auto records = read_all(topic, 1);
  ASSERT_EQ(records.size(), 1U);
  const Record& r = records[0];
  EXPECT_EQ(r.key, "k");
  EXPECT_EQ(r.value, "bad");
  std::map<std::string, std::string> h;
  for (const auto& header : r.headers) {
    h[header.key] = header.value.value_or("<null>");
  }
  EXPECT_EQ(h["trace"], "t1");
  EXPECT_EQ(h["wasmplug.error.kind"], "Trap");
  EXPECT_EQ(h["wasmplug.error.phase"], "call");
  EXPECT_EQ(h["wasmplug.error.message"], "wasm trap: unreachable");
  EXPECT_EQ(h["wasmplug.stage"], "transform[0]");
  EXPECT_EQ(h["wasmplug.source.topic"], "in");
  EXPECT_EQ(h["wasmplug.source.partition"], "3");
  EXPECT_EQ(h["wasmplug.source.offset"], "42");
}

}  // namespace
}  // namespace wasmplug::kafka
