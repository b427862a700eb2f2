// A Kafka producer whose delivery reports are the pipeline's acknowledgements.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "kafka/client.hpp"

namespace wasmplug::kafka {

/// Called once per produced record: ok when the broker has it, else why not.
/// Runs on the producer's own delivery thread; must not block for long.
using DeliveryCallback = std::function<void(const Result<void>&)>;

/// How a Producer is set up.
struct ProducerConfig {
  /// librdkafka properties; must include "bootstrap.servers". Defaults set
  /// first (overridable here): enable.idempotence=true (no duplicates or
  /// reordering from retries), message.timeout.ms=0 (retry until the broker
  /// is back: a broker restart loses nothing), linger.ms=5.
  Properties properties;
};

/// Counters of one Producer (a snapshot).
struct ProducerStats {
  std::uint64_t produced = 0;   ///< records queued
  std::uint64_t delivered = 0;  ///< delivery reports: ok
  std::uint64_t failed = 0;     ///< delivery reports: failed
};

/// Produces records to any topic; delivery callbacks run on a thread the
/// Producer owns. produce() is thread-safe.
class Producer {
 public:
  /// Validates `config` (InvalidArgument naming the property) and starts the delivery thread.
  [[nodiscard]] static Result<std::unique_ptr<Producer>> create(const ProducerConfig& config);
  /// Waits up to 30 s for records in flight, then fails the rest (their callbacks run).
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Queues `record` (key, value, headers) for `topic`; the partition comes
  /// from the key. Blocks while librdkafka's local queue is full (backpressure).
  /// On error `done` is not called.
  [[nodiscard]] Result<void> produce(std::string_view topic, const Record& record, DeliveryCallback done);
  /// Waits until every queued record is delivered or failed, or `timeout` passes (Timeout).
  [[nodiscard]] Result<void> flush(std::chrono::milliseconds timeout);
  [[nodiscard]] ProducerStats stats() const;

 private:
  Producer() = default;
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  detail::KafkaPtr rk_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> produced_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::thread poller_;
};

/// Why a record goes to the dead-letter topic.
struct DeadLetterReason {
  std::string kind;     ///< an ErrorKind name ("Trap"), or the pipeline's ("InvalidInput")
  std::string phase;    ///< a Phase name ("call"), or "input"
  std::string message;
  std::string stage;    ///< the stage that failed it
};

/// The record for a dead-letter topic: `input`'s key, value and headers, plus
/// headers wasmplug.error.kind, wasmplug.error.phase, wasmplug.error.message,
/// wasmplug.stage, wasmplug.source.topic, wasmplug.source.partition and
/// wasmplug.source.offset.
[[nodiscard]] Record dead_letter_record(const Record& input, const DeadLetterReason& reason);

}  // namespace wasmplug::kafka
