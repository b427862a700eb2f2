#include "kafka/consumer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace wasmplug::kafka {

namespace {
Error config_error(std::string message) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {}, std::move(message)};
}
bool has_property(const Properties& properties, std::string_view name) {
  for (const auto& [key, value] : properties) {
    if (key == name && !value.empty()) {
      return true;
    }
  }
  return false;
}
}  // namespace

Consumer::Consumer(ConsumerConfig config, PartitionEvents events)
    : config_(std::move(config)), events_(std::move(events)) {}

Result<std::unique_ptr<Consumer>> Consumer::create(ConsumerConfig config, PartitionEvents events) {
  if (!has_property(config.properties, "bootstrap.servers")) {
    return config_error("kafka consumer: properties must set 'bootstrap.servers' (the brokers, host:port,...)");
  }
  if (config.group.empty()) {
    return config_error("kafka consumer: 'group' (the consumer group id) is empty");
  }
  if (config.topics.empty()) {
    return config_error("kafka consumer: 'topics' is empty; name at least one topic to consume");
  }
  for (const auto& topic : config.topics) {
    if (topic.empty()) {
      return config_error("kafka consumer: 'topics' holds an empty topic name");
    }
  }
  if (config.max_unacknowledged_per_partition == 0) {
    return config_error("kafka consumer: 'max_unacknowledged_per_partition' must be >= 1");
  }
  if (config.commit_interval.count() < 1) {
    return config_error("kafka consumer: 'commit_interval' must be >= 1 ms");
  }
  if (config.drain_timeout.count() < 0) {
    return config_error("kafka consumer: 'drain_timeout' must be >= 0");
  }
  std::unique_ptr<Consumer> consumer(new Consumer(std::move(config), std::move(events)));
  const ConsumerConfig& c = consumer->config_;
  Properties forced{{"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"}, {"group.id", c.group}};
  auto conf = detail::make_conf({{"auto.offset.reset", "earliest"}}, c.properties);
  if (!conf) {
    return std::move(conf).error();
  }
  std::array<char, 512> reason{};
  for (const auto& [name, value] : forced) {
    if (rd_kafka_conf_set(conf->get(), name.c_str(), value.c_str(), reason.data(), reason.size()) !=
        RD_KAFKA_CONF_OK) {
      return config_error("kafka property '" + name + "': " + std::string(reason.data()));
    }
  }
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &Consumer::on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(conf->get(), &Consumer::on_commit);
  // rd_kafka_new takes the conf only when it succeeds.
  rd_kafka_conf_t* raw_conf = conf->release();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, raw_conf, reason.data(), reason.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(raw_conf);
    return config_error("kafka consumer: " + std::string(reason.data()));
  }
  consumer->rk_.reset(rk);
  rd_kafka_poll_set_consumer(rk);
  std::vector<TopicPartition> subscription;
  subscription.reserve(c.topics.size());
  for (const auto& topic : c.topics) {
    subscription.push_back({topic, RD_KAFKA_PARTITION_UA});
  }
  auto list = detail::to_list(subscription);
  if (auto err = rd_kafka_subscribe(rk, list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return detail::kafka_error(ErrorKind::InvalidArgument, Phase::Config, "subscribe", err);
  }
  consumer->last_commit_ = std::chrono::steady_clock::now();
  return consumer;
}

Consumer::~Consumer() { static_cast<void>(close()); }

void Consumer::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                            void* opaque) {
  auto* self = static_cast<Consumer*>(opaque);
  static_cast<void>(rk);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->assign(partitions);
  } else {
    self->revoke(partitions, rd_kafka_assignment_lost(self->rk_.get()) != 0);
  }
}

void Consumer::on_commit(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                         void* opaque) {
  static_cast<void>(rk);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || offsets == nullptr) {
    return;  // sent again at the next interval (committed_ did not move)
  }
  auto* self = static_cast<Consumer*>(opaque);
  std::lock_guard lock(self->mutex_);
  for (int i = 0; i < offsets->cnt; ++i) {
    const auto& elem = offsets->elems[i];
    if (elem.err == RD_KAFKA_RESP_ERR_NO_ERROR && elem.offset >= 0) {
      auto& committed = self->committed_[TopicPartition{elem.topic, elem.partition}];
      committed = std::max(committed, elem.offset);
    }
  }
}

void Consumer::assign(rd_kafka_topic_partition_list_t* partitions) {
  auto parts = detail::from_list(*partitions);
  {
    std::lock_guard lock(mutex_);
    for (const auto& tp : parts) {
      trackers_[tp] = OffsetTracker{};
    }
    stats_.assignments += parts.size();
  }
  if (events_.assigned) {
    events_.assigned(parts);
  }
  // Cooperative protocols add to the assignment; eager ones replace it.
  if (std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0) {
    rd_kafka_error_t* error = rd_kafka_incremental_assign(rk_.get(), partitions);
    if (error != nullptr) {
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk_.get(), partitions);
  }
  // A partition paused for backpressure before a revoke must not stay paused
  // when it comes back: our paused_ set forgot it at the revoke. While the
  // pipeline holds fetching back, a new partition starts paused.
  if (fetching_paused_) {
    rd_kafka_pause_partitions(rk_.get(), partitions);
  } else {
    rd_kafka_resume_partitions(rk_.get(), partitions);
  }
}

void Consumer::revoke(rd_kafka_topic_partition_list_t* partitions, bool lost) {
  auto parts = detail::from_list(*partitions);
  if (events_.revoked) {
    events_.revoked(parts);
  }
  if (!lost && !closed_) {
    // Wait for the pipeline to finish what it holds of these partitions, so
    // that the new owner does not consume it again.
    std::unique_lock lock(mutex_);
    bool drained = acked_.wait_for(lock, config_.drain_timeout, [&] {
      for (const auto& tp : parts) {
        auto it = trackers_.find(tp);
        if (it != trackers_.end() && it->second.unacknowledged() != 0) {
          return false;
        }
      }
      return true;
    });
    if (!drained) {
      ++stats_.drain_timeouts;
    }
    lock.unlock();
    // A failed commit here only means records are consumed again: at-least-once holds.
    static_cast<void>(commit_partitions(parts, true));
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& tp : parts) {
      trackers_.erase(tp);
      paused_.erase(tp);
    }
    stats_.revocations += parts.size();
  }
  if (std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0) {
    rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_.get(), partitions);
    if (error != nullptr) {
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk_.get(), nullptr);
  }
}

Result<std::optional<Record>> Consumer::poll(std::chrono::milliseconds timeout) {
  if (closed_) {
    return Error{ErrorKind::InvalidArgument, Phase::Call, {}, {}, "kafka consumer: poll after close"};
  }
  apply_backpressure();
  if (std::chrono::steady_clock::now() - last_commit_ >= config_.commit_interval) {
    // Asynchronous: a failure (broker away) is retried at the next interval.
    static_cast<void>(commit_partitions({}, false));
  }
  detail::MessagePtr message(rd_kafka_consumer_poll(rk_.get(), static_cast<int>(timeout.count())));
  if (!message) {
    return std::optional<Record>{};
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::array<char, 512> reason{};
    if (rd_kafka_fatal_error(rk_.get(), reason.data(), reason.size()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{ErrorKind::Io, Phase::Call, {}, {}, "kafka consumer: fatal error: " + std::string(reason.data())};
    }
    // Everything else (partition EOF, a broker down, a topic not there yet) librdkafka retries itself.
    return std::optional<Record>{};
  }
  Record record = detail::to_record(*message);
  std::lock_guard lock(mutex_);
  auto it = trackers_.find(record.topic_partition());
  if (it == trackers_.end()) {
    // Not ours (any more): the owner consumes it.
    return std::optional<Record>{};
  }
  it->second.handed_out(record.offset);
  ++stats_.handed_out;
  return std::optional<Record>{std::move(record)};
}

void Consumer::ack(const TopicPartition& partition, std::int64_t offset) {
  std::lock_guard lock(mutex_);
  auto it = trackers_.find(partition);
  if (it != trackers_.end() && it->second.acknowledge(offset)) {
    ++stats_.acknowledged;
    acked_.notify_all();
  }
}

void Consumer::release(const TopicPartition& partition, std::int64_t offset) {
  std::lock_guard lock(mutex_);
  if (auto it = trackers_.find(partition); it != trackers_.end()) {
    it->second.forget_from(offset);
    acked_.notify_all();
  }
}

void Consumer::pause_fetching(bool paused) {
  if (paused == fetching_paused_ || !rk_) {
    return;
  }
  fetching_paused_ = paused;
  std::vector<TopicPartition> parts;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [tp, tracker] : trackers_) {
      // Resuming leaves the partitions over their own bound paused.
      if (paused || !paused_.contains(tp)) {
        parts.push_back(tp);
      }
    }
    if (paused && !parts.empty()) {
      ++stats_.fetch_pauses;
    }
  }
  if (parts.empty()) {
    return;
  }
  auto list = detail::to_list(parts);
  if (paused) {
    rd_kafka_pause_partitions(rk_.get(), list.get());
  } else {
    rd_kafka_resume_partitions(rk_.get(), list.get());
  }
}

void Consumer::apply_backpressure() {
  std::vector<TopicPartition> pause;
  std::vector<TopicPartition> resume;
  {
    std::lock_guard lock(mutex_);
    const std::size_t high = config_.max_unacknowledged_per_partition;
    const std::size_t low = high / 2;
    for (const auto& [tp, tracker] : trackers_) {
      const bool paused = paused_.contains(tp);
      if (!paused && tracker.unacknowledged() >= high) {
        pause.push_back(tp);
      } else if (paused && tracker.unacknowledged() <= low) {
        resume.push_back(tp);
      }
    }
    stats_.pauses += pause.size();
  }
  if (!pause.empty()) {
    auto list = detail::to_list(pause);
    rd_kafka_pause_partitions(rk_.get(), list.get());
    paused_.insert(pause.begin(), pause.end());
  }
  if (!resume.empty() && !fetching_paused_) {
    auto list = detail::to_list(resume);
    rd_kafka_resume_partitions(rk_.get(), list.get());
    for (const auto& tp : resume) {
      paused_.erase(tp);
    }
  }
}

Result<void> Consumer::commit_partitions(const std::vector<TopicPartition>& only, bool sync) {
  last_commit_ = std::chrono::steady_clock::now();
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(0));
  std::vector<std::pair<TopicPartition, std::int64_t>> positions;
  {
    std::lock_guard lock(mutex_);
    auto consider = [&](const TopicPartition& tp, const OffsetTracker& tracker) {
      auto position = tracker.commit_position();
      auto done = committed_.find(tp);
      if (position && (done == committed_.end() || done->second != *position)) {
        rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = *position;
        positions.emplace_back(tp, *position);
      }
    };
    if (only.empty()) {
      for (const auto& [tp, tracker] : trackers_) {
        consider(tp, tracker);
      }
    } else {
      for (const auto& tp : only) {
        if (auto it = trackers_.find(tp); it != trackers_.end()) {
          consider(tp, it->second);
        }
      }
    }
    if (positions.empty()) {
      return {};
    }
    ++stats_.commits;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), sync ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return detail::kafka_error(ErrorKind::Io, Phase::Call, "commit", err);
  }
  // An asynchronous commit is confirmed in on_commit; until then (or if it
  // fails) the position is sent again at the next interval.
  if (sync) {
    std::lock_guard lock(mutex_);
    for (const auto& [tp, position] : positions) {
      committed_[tp] = std::max(committed_[tp], position);
    }
  }
  return {};
}

Result<void> Consumer::commit(bool sync) { return commit_partitions({}, sync); }

Result<void> Consumer::close() {
  if (closed_ || !rk_) {
    return {};
  }
  closed_ = true;
  auto committed = commit_partitions({}, true);
  // Leaves the group; the revoke callback runs from here and does not wait
  // for records still unacknowledged (closing is the caller's decision: they
  // are consumed again by the next owner).
  rd_kafka_consumer_close(rk_.get());
  rk_.reset();
  return committed;
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::lock_guard lock(mutex_);
  std::vector<TopicPartition> parts;
  parts.reserve(trackers_.size());
  for (const auto& [tp, tracker] : trackers_) {
    parts.push_back(tp);
  }
  return parts;
}

std::map<TopicPartition, std::int64_t> Consumer::committed() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

ConsumerStats Consumer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace wasmplug::kafka
