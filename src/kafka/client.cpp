#include "kafka/client.hpp"

#include <array>

namespace wasmplug::kafka::detail {

Result<ConfPtr> make_conf(const Properties& defaults, const Properties& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> reason{};
  for (const Properties* list : {&defaults, &properties}) {
    for (const auto& [name, value] : *list) {
      if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), reason.data(), reason.size()) !=
          RD_KAFKA_CONF_OK) {
        return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
                     "kafka property '" + name + "': " + std::string(reason.data())};
      }
    }
  }
  return conf;
}

Error kafka_error(ErrorKind kind, Phase phase, std::string_view what, rd_kafka_resp_err_t err) {
  return Error{kind, phase, {}, {}, "kafka: " + std::string(what) + ": " + rd_kafka_err2str(err)};
}

Record to_record(const rd_kafka_message_t& message) {
  Record record;
  record.topic = rd_kafka_topic_name(message.rkt);
  record.partition = message.partition;
  record.offset = message.offset;
  if (message.key != nullptr) {
    record.key.emplace(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    record.value.assign(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  record.timestamp_ms = rd_kafka_message_timestamp(&message, &type);
  rd_kafka_headers_t* headers = nullptr;
  // librdkafka's accessor takes a non-const message; it only parses the headers lazily.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(&message), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      Header header{name, std::nullopt};
      if (value != nullptr) {
        header.value.emplace(static_cast<const char*>(value), size);
      }
      record.headers.push_back(std::move(header));
    }
  }
  return record;
}

PartitionListPtr to_list(const std::vector<TopicPartition>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  }
  return list;
}

std::vector<TopicPartition> from_list(const rd_kafka_topic_partition_list_t& list) {
  std::vector<TopicPartition> partitions;
  partitions.reserve(static_cast<std::size_t>(list.cnt));
  for (int i = 0; i < list.cnt; ++i) {
    partitions.push_back({list.elems[i].topic, list.elems[i].partition});
  }
  return partitions;
}

}  // namespace wasmplug::kafka::detail
