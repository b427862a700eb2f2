// A Kafka consumer-group member that commits only acknowledged records.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kafka/client.hpp"
#include "kafka/offset_tracker.hpp"

namespace wasmplug::kafka {

/// What a Consumer joins and how it holds back.
struct ConsumerConfig {
  /// librdkafka properties; must include "bootstrap.servers". Defaults set
  /// first (and overridable here): auto.offset.reset=earliest. Always set
  /// after these (the commit protocol depends on them): enable.auto.commit=false,
  /// enable.auto.offset.store=false, group.id=`group`.
  Properties properties;
  std::string group;                ///< consumer group id; required
  std::vector<std::string> topics;  ///< topics to subscribe to; at least one
  /// A partition is paused when this many of its records are handed out and
  /// not acknowledged, and resumed at half of it (backpressure). >= 1.
  std::size_t max_unacknowledged_per_partition = 10000;
  /// Acknowledged offsets are committed (asynchronously) at most this often,
  /// and synchronously on revoke and close. >= 1 ms.
  std::chrono::milliseconds commit_interval{1000};
  /// On revoke, how long to wait for the partition's handed-out records to be
  /// acknowledged before letting go (the rest are consumed again by the new
  /// owner: at-least-once). >= 0.
  std::chrono::milliseconds drain_timeout{30000};
};

/// Rebalance events; both run on the thread that calls Consumer::poll, inside it.
struct PartitionEvents {
  /// The member now owns these partitions (records of them follow).
  std::function<void(const std::vector<TopicPartition>&)> assigned;
  /// The member is about to give these up: finish (acknowledge) the records
  /// of them it holds, or drop them (they will be consumed again elsewhere).
  /// After this returns the consumer waits up to drain_timeout for the
  /// acknowledgements, commits and lets go.
  std::function<void(const std::vector<TopicPartition>&)> revoked;
};

/// Counters of one Consumer (a snapshot).
struct ConsumerStats {
  std::uint64_t handed_out = 0;      ///< records returned by poll
  std::uint64_t acknowledged = 0;    ///< ack() calls that matched a handed-out record
  std::uint64_t commits = 0;         ///< commit requests sent
  std::uint64_t pauses = 0;          ///< partitions paused for backpressure (max_unacknowledged_per_partition)
  std::uint64_t fetch_pauses = 0;    ///< pause_fetching(true) calls that paused the assignment (pipeline backpressure)
  std::uint64_t assignments = 0;     ///< partitions assigned (all rebalances)
  std::uint64_t revocations = 0;     ///< partitions revoked or lost
  std::uint64_t drain_timeouts = 0;  ///< revoked partitions let go with records unacknowledged
};

/// One member of a consumer group. poll() and close() on one thread; ack()
/// from any thread. Offsets are committed only up to the contiguous
/// acknowledged prefix of each partition.
class Consumer {
 public:
  /// Validates `config` (InvalidArgument naming the field) and subscribes.
  [[nodiscard]] static Result<std::unique_ptr<Consumer>> create(ConsumerConfig config, PartitionEvents events);
  /// Commits what is acknowledged and leaves the group (close()).
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  /// The next record, or nullopt when none came within `timeout`. Serves
  /// rebalances (PartitionEvents), pause/resume and periodic commits. Errors
  /// that librdkafka recovers from itself (a broker down, a leader moving) are
  /// not returned: the consumer keeps trying; a fatal error is returned.
  [[nodiscard]] Result<std::optional<Record>> poll(std::chrono::milliseconds timeout);
  /// The record at `offset` of `partition` is done: its output is acknowledged
  /// by the broker (or it is in the dead-letter topic). Unknown offsets (of a
  /// partition revoked since) are ignored. Thread-safe.
  void ack(const TopicPartition& partition, std::int64_t offset);
  /// Forgets the records of `partition` from `offset` on (handed out, not
  /// yet in the pipeline): a revoke does not wait for them, and the next
  /// owner consumes them again. Call from PartitionEvents::revoked.
  void release(const TopicPartition& partition, std::int64_t offset);
  /// Backpressure from downstream: true pauses fetching of every owned
  /// partition (rd_kafka_pause_partitions: librdkafka's prefetch queue stops
  /// filling while nobody polls), false resumes those not paused by
  /// max_unacknowledged_per_partition. A partition assigned meanwhile starts
  /// paused. Not concurrently with poll() (the pipeline's source calls it
  /// while its poll thread waits for the pipeline).
  void pause_fetching(bool paused);
  /// Commits the acknowledged prefix of every owned partition (sync waits for the broker).
  [[nodiscard]] Result<void> commit(bool sync);
  /// Commits the acknowledged prefix synchronously and leaves the group
  /// without waiting for records still unacknowledged (the next owner
  /// consumes them again). Idempotent.
  [[nodiscard]] Result<void> close();

  /// The partitions owned now.
  [[nodiscard]] std::vector<TopicPartition> assignment() const;
  /// What the broker confirmed this member committed, per partition (the next offset to read).
  [[nodiscard]] std::map<TopicPartition, std::int64_t> committed() const;
  [[nodiscard]] ConsumerStats stats() const;

 private:
  Consumer(ConsumerConfig config, PartitionEvents events);
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque);
  static void on_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                        void* opaque);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void revoke(rd_kafka_topic_partition_list_t* partitions, bool lost);
  // Commits the positions of `only` (all owned partitions if empty). Caller holds no lock.
  Result<void> commit_partitions(const std::vector<TopicPartition>& only, bool sync);
  void apply_backpressure();

  ConsumerConfig config_;
  PartitionEvents events_;
  detail::KafkaPtr rk_;
  mutable std::mutex mutex_;
  std::condition_variable acked_;
  std::map<TopicPartition, OffsetTracker> trackers_;          // guarded by mutex_
  std::map<TopicPartition, std::int64_t> committed_;          // guarded by mutex_
  std::set<TopicPartition> paused_;                           // poll thread only
  bool fetching_paused_ = false;                              // poll thread only
  ConsumerStats stats_;                                       // guarded by mutex_
  std::chrono::steady_clock::time_point last_commit_{};
  bool closed_ = false;
};

}  // namespace wasmplug::kafka
