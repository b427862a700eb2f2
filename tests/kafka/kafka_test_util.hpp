// Helpers for tests against the broker that the kafka_broker fixture started.
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "kafka/client.hpp"

namespace wasmplug::kafka::testing {

/// The broker directory (WASMPLUG_KAFKA_BROKER_DIR, set by CTest).
inline std::string broker_dir() {
  const char* dir = std::getenv("WASMPLUG_KAFKA_BROKER_DIR");
  return dir != nullptr ? dir : "";
}

/// host:port of the fixture's broker, or "" when there is none.
inline std::string bootstrap() {
  std::ifstream ports(broker_dir() + "/ports");
  int broker_port = 0;
  if (!(ports >> broker_port)) {
    return {};
  }
  return "127.0.0.1:" + std::to_string(broker_port);
}

/// A topic name no other test uses.
inline std::string unique_name(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + "-" + std::to_string(rng() % 1000000000);
}

/// Runs broker.sh `command` on the fixture's broker (stop, start, restart).
inline int broker(const std::string& command) {
  std::string line = std::string("'") + WASMPLUG_KAFKA_BROKER_SH + "' " + command + " '" + broker_dir() + "' >/dev/null";
  return std::system(line.c_str());
}

/// Creates `topic` with `partitions` partitions (replication 1); true when it exists after.
inline bool create_topic(const std::string& topic, int partitions) {
  auto conf = detail::make_conf({{"bootstrap.servers", bootstrap()}}, {});
  if (!conf) {
    return false;
  }
  std::array<char, 512> reason{};
  detail::KafkaPtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), reason.data(), reason.size()));
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, reason.data(), reason.size());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_CreateTopics(rk.get(), &nt, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  bool ok = false;
  if (event != nullptr) {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    std::size_t count = 0;
    const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(result, &count);
    ok = count == 1 && (rd_kafka_topic_result_error(topics[0]) == RD_KAFKA_RESP_ERR_NO_ERROR ||
                        rd_kafka_topic_result_error(topics[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(nt);
  return ok;
}

/// Every record of `topic` (all partitions, from the beginning to the end
/// as of now), read without a group.
inline std::vector<Record> read_all(const std::string& topic, int partitions) {
  auto conf = detail::make_conf({{"bootstrap.servers", bootstrap()}, {"enable.partition.eof", "true"},
                                 {"group.id", unique_name("reader")}, {"enable.auto.commit", "false"}},
                                {});
  std::array<char, 512> reason{};
  detail::KafkaPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), reason.data(), reason.size()));
  rd_kafka_poll_set_consumer(rk.get());
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk.get(), list.get());
  std::vector<Record> records;
  int at_end = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (at_end < partitions && std::chrono::steady_clock::now() < deadline) {
    detail::MessagePtr message(rd_kafka_consumer_poll(rk.get(), 500));
    if (!message) {
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++at_end;
    } else if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      records.push_back(detail::to_record(*message));
    }
  }
  rd_kafka_consumer_close(rk.get());
  return records;
}

}  // namespace wasmplug::kafka::testing

namespace wasmplug::kafka::testing {

/// Records in `topic` now: the sum of its partitions' high watermarks.
inline std::int64_t topic_size(const std::string& topic, int partitions) {
  auto conf = detail::make_conf({{"bootstrap.servers", bootstrap()}}, {});
  std::array<char, 512> reason{};
  detail::KafkaPtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->release(), reason.data(), reason.size()));
  std::int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), p, &low, &high, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return -1;
    }
    total += high;
  }
  return total;
}

}  // namespace wasmplug::kafka::testing
