#include "kafka/stages.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "kafka/consumer.hpp"
#include "kafka/producer.hpp"

namespace wasmplug::kafka {

namespace {

using pipeline::Ack;
using pipeline::Outcome;
using pipeline::PipelineSpec;
using pipeline::PullStatus;
using pipeline::RecordBatch;
using pipeline::SinkStatus;
using pipeline::StageSpec;

Error config_error(const PipelineSpec& spec, const StageSpec& stage, const std::string& what) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
               spec.file + ":" + std::to_string(stage.line) + ": " + what};
}

// Reads a stage table's keys, each checked once; leftovers are unknown keys.
class Keys {
 public:
  Keys(const PipelineSpec& spec, const StageSpec& stage, std::string where)
      : spec_(spec), stage_(stage), where_(std::move(where)), left_(stage.keys) {}

  std::optional<std::string> text(const std::string& key) {
    auto it = left_.find(key);
    if (it == left_.end()) {
      return std::nullopt;
    }
    std::string value = it->second;
    left_.erase(it);
    return value;
  }
  Result<std::string> required(const std::string& key, const std::string& meaning) {
    auto value = text(key);
    if (!value || value->empty()) {
      return config_error(spec_, stage_, where_ + " of type \"kafka\" needs key '" + key + "' (" + meaning + ")");
    }
    return *value;
  }
  Result<std::int64_t> number(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
    auto value = text(key);
    if (!value) {
      return fallback;
    }
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
    if (ec != std::errc{} || end != value->data() + value->size() || n < min || n > max) {
      return config_error(spec_, stage_, where_ + " key '" + key + "' must be an integer in " + std::to_string(min) +
                                             ".." + std::to_string(max) + ", got '" + *value + "'");
    }
    return n;
  }
  Result<void> no_more(const std::string& known) {
    if (!left_.empty()) {
      return config_error(spec_, stage_, where_ + " key '" + left_.begin()->first +
                                             "' is unknown for type \"kafka\" (known keys: " + known +
                                             ", and a 'properties' table for librdkafka)");
    }
    return {};
  }

 private:
  const PipelineSpec& spec_;
  const StageSpec& stage_;
  std::string where_;
  std::map<std::string, std::string> left_;
};

Properties properties_of(const std::string& brokers, const StageSpec& stage) {
  Properties props{{"bootstrap.servers", brokers}};
  for (const auto& [name, value] : stage.properties) {
    props.emplace_back(name, value);
  }
  return props;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) {
      comma = list.size();
    }
    if (comma > start) {
      out.push_back(list.substr(start, comma - start));
    }
    start = comma + 1;
  }
  return out;
}

// What the Kafka source, sink and dead-letter producer share: the partition
// of each flow id, the keys and headers of records in flight, the consumer
// that acknowledgements go to, and the first asynchronous failure.
struct Link {
  // Declared first: destroyed last, after the producers (their delivery
  // callbacks acknowledge to it) have flushed.
  std::unique_ptr<Consumer> consumer;
  bool sink_acknowledges = false;  // a Kafka sink acks on delivery; else the source does on acknowledge()

  std::mutex mutex;
  std::map<TopicPartition, std::uint32_t> flow_of;  // guarded by mutex
  std::vector<TopicPartition> flows;                // guarded by mutex
  struct Meta {
    std::optional<std::string> key;
    std::vector<Header> headers;
  };
  std::map<std::pair<std::uint32_t, std::int64_t>, Meta> meta;  // guarded by mutex
  std::optional<Error> failure;                                 // guarded by mutex

  std::string dead_letter_topic;
  std::unique_ptr<Producer> dead_letter;  // destroyed before consumer

  // The records of the pull in progress, not yet in the pipeline's batch
  // (source thread; and the revoke in consumer->close() after the pipeline ended).
  std::vector<Record> staged;
  // Flows opened (assigned) and closed (revoked, drained) since the
  // pipeline last asked: rebalance callbacks run on the source thread.
  std::vector<pipeline::FlowEvent> flow_events;  // guarded by mutex

  // Rebalances are rare and an operator wants to see them: one line on stderr.
  static void report(const char* what, const std::string& group, const std::vector<TopicPartition>& parts) {
    std::string list;
    for (const auto& tp : parts) {
      list += (list.empty() ? "" : " ") + tp.to_string();
    }
    std::fprintf(stderr, "wasmplug: kafka group '%s': %s %s\n", group.c_str(), what, list.c_str());
  }

  // PartitionEvents::revoked: the records of the pull in progress are not
  // in the pipeline yet; waiting for them would wait for ourselves. They are
  // left out of the batch and consumed again by the next owner, so that no
  // record of the partition comes after its flow closed.
  void revoked(const std::vector<TopicPartition>& parts) {
    for (const auto& tp : parts) {
      auto first = std::ranges::find_if(staged, [&](const Record& r) { return r.topic_partition() == tp; });
      if (first != staged.end()) {
        consumer->release(tp, first->offset);
      }
      std::erase_if(staged, [&](const Record& r) { return r.topic_partition() == tp; });
    }
    // The consumer's drain (waiting for the pipeline's records of these
    // partitions) follows this; the pipeline reads the events after the
    // poll, so it hears of the close once the partition is drained.
    std::lock_guard lock(mutex);
    for (const auto& tp : parts) {
      flow_events.push_back({pipeline::FlowEvent::Kind::Closed, flow(tp)});
    }
  }
  void assigned(const std::vector<TopicPartition>& parts) {
    std::lock_guard lock(mutex);
    for (const auto& tp : parts) {
      flow_events.push_back({pipeline::FlowEvent::Kind::Opened, flow(tp)});
    }
  }

  std::uint32_t flow(const TopicPartition& tp) {
    auto [it, added] = flow_of.try_emplace(tp, static_cast<std::uint32_t>(flows.size()));
    if (added) {
      flows.push_back(tp);
    }
    return it->second;
  }
  void fail(Error error) {
    std::lock_guard lock(mutex);
    if (!failure) {
      failure = std::move(error);
    }
  }
  std::optional<Error> failed() {
    std::lock_guard lock(mutex);
    return failure;
  }
  void ack(const TopicPartition& tp, std::int64_t offset) const {
    if (consumer) {
      consumer->ack(tp, offset);
    }
  }
  ~Link() {
    dead_letter.reset();
    if (consumer) {
      static_cast<void>(consumer->close());
    }
  }
};

// Pauses fetching of every assigned partition once the pipeline's queue has
// been full for `after`, resumes when a batch comes back. Not at once: a
// full queue is the normal state of a source faster than its processors,
// and librdkafka drops what it prefetched of a paused partition (fetched
// again on resume), so pausing on every full queue would cost a round trip
// per batch. The source thread is blocked in the pipeline while the queue is
// full (and so is every other user of the consumer's poll-thread state):
// a timer thread does the pause, under the same mutex as full()/freed().
class FetchPauser {
 public:
  FetchPauser(Consumer& consumer, std::chrono::milliseconds after) : consumer_(consumer), after_(after) {
    if (after_.count() > 0) {
      thread_ = std::thread([this] { run(); });
    }
  }
  ~FetchPauser() {
    {
      std::lock_guard lock(mutex_);
      exit_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  FetchPauser(const FetchPauser&) = delete;
  FetchPauser& operator=(const FetchPauser&) = delete;

  void full() {
    std::lock_guard lock(mutex_);
    if (after_.count() == 0) {
      pause();
      return;
    }
    deadline_ = std::chrono::steady_clock::now() + after_;
    wake_.notify_all();
  }
  void freed() {
    std::lock_guard lock(mutex_);
    deadline_.reset();
    if (paused_) {
      consumer_.pause_fetching(false);
      paused_ = false;
    }
  }

 private:
  void pause() {
    consumer_.pause_fetching(true);
    paused_ = true;
  }
  void run() {
    std::unique_lock lock(mutex_);
    while (!exit_) {
      if (!deadline_) {
        wake_.wait(lock, [&] { return exit_ || deadline_.has_value(); });
        continue;
      }
      const auto deadline = *deadline_;
      wake_.wait_until(lock, deadline, [&] { return exit_ || deadline_ != deadline; });
      if (!exit_ && deadline_ == deadline && std::chrono::steady_clock::now() >= deadline) {
        deadline_.reset();
        pause();
      }
    }
  }

  Consumer& consumer_;
  std::chrono::milliseconds after_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // guarded by mutex_
  bool paused_ = false;                                            // guarded by mutex_
  bool exit_ = false;                                              // guarded by mutex_
  std::thread thread_;
};

class KafkaSource final : public pipeline::Source {
 public:
  KafkaSource(std::shared_ptr<Link> link, std::chrono::milliseconds exit_after_idle,
              std::chrono::milliseconds pause_after)
      : link_(std::move(link)), exit_after_idle_(exit_after_idle), pause_after_(pause_after) {}

  Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records, std::size_t max_bytes) override {
    if (auto failure = link_->failed()) {
      return *failure;
    }
    std::vector<Record>& staged = link_->staged;
    staged.clear();
    auto wait = std::chrono::milliseconds(100);
    std::size_t bytes = 0;
    while (staged.size() < max_records && bytes < max_bytes && !interrupted_.load(std::memory_order_acquire)) {
      auto polled = link_->consumer->poll(staged.empty() ? wait : std::chrono::milliseconds(0));
      if (!polled) {
        staged.clear();  // the pipeline ends; the next owner consumes them
        return std::move(polled).error();
      }
      std::optional<Record>& next = *polled;
      bool rebalanced = false;
      {
        std::lock_guard lock(link_->mutex);
        rebalanced = !link_->flow_events.empty();
      }
      if (next.has_value()) {
        bytes += next->value.size();
        staged.push_back(std::move(*next));
      }
      // A rebalance ends the batch: its flow events go to the pipeline
      // before the records that follow them.
      if (!next.has_value() || rebalanced) {
        break;
      }
    }
    for (Record& r : staged) {
      std::uint32_t flow = 0;
      {
        std::lock_guard lock(link_->mutex);
        flow = link_->flow(r.topic_partition());
        if (r.key || !r.headers.empty()) {
          link_->meta[{flow, r.offset}] = Link::Meta{std::move(r.key), std::move(r.headers)};
        }
      }
      batch.add(r.value, static_cast<std::uint64_t>(r.offset), flow);
    }
    staged.clear();
    const auto now = std::chrono::steady_clock::now();
    if (!batch.empty()) {
      last_record_ = now;
    }
    // Idle counts from the last record, never from the start (joining the group takes seconds).
    const bool idle = exit_after_idle_.count() > 0 && batch.empty() &&
                      last_record_ != std::chrono::steady_clock::time_point{} && now - last_record_ >= exit_after_idle_;
    if (interrupted_.load(std::memory_order_acquire) || idle) {
      return PullStatus::End;
    }
    return PullStatus::Records;
  }

  void acknowledge(std::span<const Ack> acks) override {
    for (const Ack& ack : acks) {
      TopicPartition tp;
      std::optional<Link::Meta> meta;
      {
        std::lock_guard lock(link_->mutex);
        if (ack.flow >= link_->flows.size()) {
          continue;
        }
        tp = link_->flows[ack.flow];
        if (ack.outcome != Outcome::Out || !link_->sink_acknowledges) {
          auto it = link_->meta.find({ack.flow, static_cast<std::int64_t>(ack.position)});
          if (it != link_->meta.end()) {
            meta = std::move(it->second);
            link_->meta.erase(it);
          }
        }
      }
      const auto offset = static_cast<std::int64_t>(ack.position);
      if (ack.outcome == Outcome::Failed && link_->dead_letter) {
        dead_letter(tp, offset, ack, std::move(meta));
      } else if (ack.outcome != Outcome::Out || !link_->sink_acknowledges) {
        // Dropped, failed into the dead-letter file (written before this
        // call), or out through a sink whose push means done.
        link_->ack(tp, offset);
      }
    }
  }

  void flow_events(std::vector<pipeline::FlowEvent>& events) override {
    std::lock_guard lock(link_->mutex);
    events.insert(events.end(), link_->flow_events.begin(), link_->flow_events.end());
    link_->flow_events.clear();
  }

  // The pipeline's queues are full: once that lasts, stop fetching every
  // partition (the consumer would otherwise fill librdkafka's prefetch
  // queue, up to queued.max.messages.kbytes, while nobody polls).
  void backpressure(bool paused) override {
    if (!pauser_) {
      pauser_ = std::make_unique<FetchPauser>(*link_->consumer, pause_after_);
    }
    if (paused) {
      pauser_->full();
    } else {
      pauser_->freed();
    }
  }

  void interrupt() noexcept override { interrupted_.store(true, std::memory_order_release); }

  [[nodiscard]] ConsumerStats consumer_stats() const { return link_->consumer->stats(); }

 private:
  void dead_letter(const TopicPartition& tp, std::int64_t offset, const Ack& ack, std::optional<Link::Meta> meta) {
    Record input;
    input.topic = tp.topic;
    input.partition = tp.partition;
    input.offset = offset;
    input.value = std::string(ack.bytes);
    if (meta) {
      input.key = std::move(meta->key);
      input.headers = std::move(meta->headers);
    }
    DeadLetterReason reason;
    if (ack.error != nullptr) {
      reason = {ack.error->kind, ack.error->phase, ack.error->message, ack.error->stage};
    }
    std::shared_ptr<Link> link = link_;
    auto produced = link_->dead_letter->produce(
        link_->dead_letter_topic, dead_letter_record(input, reason), [link, tp, offset](const Result<void>& done) {
          if (done) {
            link->ack(tp, offset);
          } else {
            link->fail(done.error());  // not acknowledged: consumed again after a restart
          }
        });
    if (!produced) {
      link_->fail(produced.error());
    }
  }

  std::shared_ptr<Link> link_;
  std::chrono::milliseconds exit_after_idle_;
  std::chrono::milliseconds pause_after_;
  std::unique_ptr<FetchPauser> pauser_;  // made on the first backpressure; destroyed before link_
  std::atomic<bool> interrupted_{false};
  std::chrono::steady_clock::time_point last_record_{};
};

class KafkaSink final : public pipeline::Sink {
 public:
  KafkaSink(std::shared_ptr<Link> link, std::unique_ptr<Producer> producer, std::string topic)
      : link_(std::move(link)), producer_(std::move(producer)), topic_(std::move(topic)) {}

  Result<SinkStatus> push(const RecordBatch& batch) override {
    if (auto failure = link_->failed()) {
      return *failure;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const RecordBatch::Entry& entry = batch.entry(i);
      if (entry.outcome != Outcome::Out) {
        continue;
      }
      Record out;
      out.value = std::string(batch.record(i));
      TopicPartition tp;
      const auto offset = static_cast<std::int64_t>(entry.position);
      if (link_->consumer) {
        std::lock_guard lock(link_->mutex);
        tp = link_->flows[entry.flow];
        auto it = link_->meta.find({entry.flow, offset});
        if (it != link_->meta.end()) {
          out.key = std::move(it->second.key);
          out.headers = std::move(it->second.headers);
          link_->meta.erase(it);
        }
      }
      std::shared_ptr<Link> link = link_;
      auto produced = producer_->produce(topic_, out, [link, tp, offset](const Result<void>& done) {
        if (done) {
          link->ack(tp, offset);
        } else {
          link->fail(done.error());  // not acknowledged: consumed again after a restart
        }
      });
      if (!produced) {
        return std::move(produced).error();
      }
    }
    if (!link_->consumer) {
      // No Kafka source to acknowledge to: Ready must mean the broker has them.
      if (auto flushed = producer_->flush(std::chrono::milliseconds(std::numeric_limits<int>::max())); !flushed) {
        return std::move(flushed).error();
      }
    }
    return SinkStatus::Ready;
  }

  Result<void> complete() override {
    if (auto flushed = producer_->flush(std::chrono::milliseconds(std::numeric_limits<int>::max())); !flushed) {
      return flushed;
    }
    if (link_->dead_letter) {
      if (auto flushed = link_->dead_letter->flush(std::chrono::milliseconds(std::numeric_limits<int>::max()));
          !flushed) {
        return flushed;
      }
    }
    if (auto failure = link_->failed()) {
      return *failure;
    }
    return {};
  }

 private:
  std::shared_ptr<Link> link_;  // outlives producer_ (declared first)
  std::unique_ptr<Producer> producer_;
  std::string topic_;
};

}  // namespace

Result<pipeline::ExternalStages> make_kafka_stages(const PipelineSpec& spec) {
  auto link = std::make_shared<Link>();
  pipeline::ExternalStages stages;
  std::string source_brokers;
  std::string sink_brokers;
  if (spec.source_stage) {
    const StageSpec& st = *spec.source_stage;
    Keys keys(spec, st, "[source]");
    auto brokers = keys.required("brokers", "the bootstrap brokers, host:port,...");
    auto group = keys.required("group", "the consumer group id");
    auto topics = keys.required("topics", "the topics to consume");
    auto max_unacked = keys.number("max_unacknowledged_per_partition", 10000, 1, 100'000'000);
    auto commit_ms = keys.number("commit_interval_ms", 1000, 1, 3'600'000);
    auto drain_ms = keys.number("drain_timeout_ms", 30000, 0, 3'600'000);
    auto idle_ms = keys.number("exit_after_idle_ms", 0, 0, 86'400'000);
    auto pause_ms = keys.number("backpressure_pause_ms", 100, 0, 60'000);
    for (const Error* e : {brokers ? nullptr : &brokers.error(), group ? nullptr : &group.error(),
                           topics ? nullptr : &topics.error(), max_unacked ? nullptr : &max_unacked.error(),
                           commit_ms ? nullptr : &commit_ms.error(), drain_ms ? nullptr : &drain_ms.error(),
                           idle_ms ? nullptr : &idle_ms.error(), pause_ms ? nullptr : &pause_ms.error()}) {
      if (e != nullptr) {
        return *e;
      }
    }
    if (auto rest = keys.no_more("brokers, group, topics, max_unacknowledged_per_partition, commit_interval_ms, "
                                 "drain_timeout_ms, exit_after_idle_ms, backpressure_pause_ms");
        !rest) {
      return rest.error();
    }
    source_brokers = *brokers;
    ConsumerConfig config;
    config.properties = properties_of(*brokers, st);
    config.group = *group;
    config.topics = split(*topics);
    config.max_unacknowledged_per_partition = static_cast<std::size_t>(*max_unacked);
    config.commit_interval = std::chrono::milliseconds(*commit_ms);
    config.drain_timeout = std::chrono::milliseconds(*drain_ms);
    auto made = std::make_unique<KafkaSource>(link, std::chrono::milliseconds(*idle_ms),
                                              std::chrono::milliseconds(*pause_ms));
    PartitionEvents events;
    // The link owns the consumer: it outlives every callback.
    events.revoked = [raw = link.get(), group = *group](const std::vector<TopicPartition>& parts) {
      Link::report("revoked", group, parts);
      raw->revoked(parts);
    };
    events.assigned = [raw = link.get(), group = *group](const std::vector<TopicPartition>& parts) {
      Link::report("assigned", group, parts);
      raw->assigned(parts);
    };
    auto consumer = Consumer::create(std::move(config), std::move(events));
    if (!consumer) {
      Error e = std::move(consumer).error();
      e.message = spec.file + ":" + std::to_string(st.line) + ": [source]: " + e.message;
      return e;
    }
    link->consumer = std::move(consumer).value();
    stages.source = std::move(made);
  }
  if (spec.sink_stage) {
    const StageSpec& st = *spec.sink_stage;
    Keys keys(spec, st, "[sink]");
    auto topic = keys.required("topic", "the topic to produce to");
    if (!topic) {
      return topic.error();
    }
    sink_brokers = keys.text("brokers").value_or(source_brokers);
    if (sink_brokers.empty()) {
      return config_error(spec, st, "[sink] of type \"kafka\" needs key 'brokers' (the source is not Kafka)");
    }
    if (auto rest = keys.no_more("topic, brokers"); !rest) {
      return rest.error();
    }
    auto producer = Producer::create({properties_of(sink_brokers, st)});
    if (!producer) {
      Error e = std::move(producer).error();
      e.message = spec.file + ":" + std::to_string(st.line) + ": [sink]: " + e.message;
      return e;
    }
    link->sink_acknowledges = true;
    stages.sink = std::make_unique<KafkaSink>(link, std::move(producer).value(), *topic);
  }
  if (spec.dead_letter_stage) {
    const StageSpec& st = *spec.dead_letter_stage;
    Keys keys(spec, st, "[dead_letter]");
    auto topic = keys.required("topic", "the dead-letter topic");
    if (!topic) {
      return topic.error();
    }
    std::string brokers = keys.text("brokers").value_or(!sink_brokers.empty() ? sink_brokers : source_brokers);
    if (brokers.empty()) {
      return config_error(spec, st, "[dead_letter] of type \"kafka\" needs key 'brokers'");
    }
    if (auto rest = keys.no_more("topic, brokers"); !rest) {
      return rest.error();
    }
    if (!link->consumer) {
      return config_error(spec, st,
                          "[dead_letter] of type \"kafka\" needs a Kafka [source] (failed records are "
                          "produced when the source learns of them)");
    }
    auto producer = Producer::create({properties_of(brokers, st)});
    if (!producer) {
      Error e = std::move(producer).error();
      e.message = spec.file + ":" + std::to_string(st.line) + ": [dead_letter]: " + e.message;
      return e;
    }
    link->dead_letter = std::move(producer).value();
    link->dead_letter_topic = *topic;
  }
  return stages;
}

std::optional<ConsumerStats> kafka_source_stats(const pipeline::Source& source) {
  if (const auto* kafka = dynamic_cast<const KafkaSource*>(&source)) {
    return kafka->consumer_stats();
  }
  return std::nullopt;
}

}  // namespace wasmplug::kafka
