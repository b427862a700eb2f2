// Kafka records and librdkafka handles shared by the consumer and producer.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "wasmplug/error.hpp"

namespace wasmplug::kafka {

/// librdkafka configuration properties ("bootstrap.servers", "security.protocol",
/// "sasl.mechanisms", ...), applied in order: a later entry overrides an
/// earlier one. Passed to librdkafka verbatim; see its CONFIGURATION.md.
using Properties = std::vector<std::pair<std::string, std::string>>;

/// One record header. A header may have no value (null), which differs from an empty one.
struct Header {
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const Header&, const Header&) = default;
};

/// One partition of one topic.
struct TopicPartition {
  std::string topic;
  std::int32_t partition = -1;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  [[nodiscard]] std::string to_string() const { return topic + "[" + std::to_string(partition) + "]"; }
};

/// A record as consumed (topic, partition, offset set) or to be produced
/// (only key, value and headers are used; the partition comes from the key).
struct Record {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::optional<std::string> key;  ///< nullopt: no key (null), not an empty one
  std::string value;
  std::vector<Header> headers;
  std::int64_t timestamp_ms = -1;  ///< -1 when the broker did not give one

  [[nodiscard]] TopicPartition topic_partition() const { return {topic, partition}; }
};

namespace detail {
struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const noexcept {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const noexcept { rd_kafka_message_destroy(message); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

/// A conf with `defaults` then `properties` set; an unknown property or a bad
/// value fails with InvalidArgument naming the property and librdkafka's reason.
[[nodiscard]] Result<ConfPtr> make_conf(const Properties& defaults, const Properties& properties);
/// Error{kind, phase, "kafka: <what>: <librdkafka's text>"}.
[[nodiscard]] Error kafka_error(ErrorKind kind, Phase phase, std::string_view what, rd_kafka_resp_err_t err);
/// The record that a consumed message holds (copied out).
[[nodiscard]] Record to_record(const rd_kafka_message_t& message);
/// A partition list holding `partitions` (offsets unset).
[[nodiscard]] PartitionListPtr to_list(const std::vector<TopicPartition>& partitions);
/// The partitions in `list`.
[[nodiscard]] std::vector<TopicPartition> from_list(const rd_kafka_topic_partition_list_t& list);
}  // namespace detail

}  // namespace wasmplug::kafka
