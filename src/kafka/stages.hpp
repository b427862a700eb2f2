// Kafka as a pipeline source, sink and dead-letter topic (type = "kafka").
#pragma once

#include <optional>

#include "kafka/consumer.hpp"
#include "wasmplug/pipeline.hpp"

namespace wasmplug::kafka {

/// The pipeline::StageFactory for `type = "kafka"` in [source], [sink] and
/// [dead_letter] (docs/pipelines-kafka.md):
///
///   [source] brokers, group, topics (string or array), and optionally
///            max_unacknowledged_per_partition (10000), commit_interval_ms (1000),
///            drain_timeout_ms (30000), exit_after_idle_ms (0: never),
///            backpressure_pause_ms (100).
///   [sink]   topic, brokers (default: the source's).
///   [dead_letter] topic, brokers (default: the sink's, else the source's).
///   Each may have a `properties` subtable passed to librdkafka verbatim
///   (security.protocol, sasl.*, ssl.*, tuning).
///
/// A Kafka source's offsets are committed only once the record's output is
/// acknowledged by the broker (a Kafka sink's delivery report; another sink's
/// push), or it was dropped, or it is in the dead-letter topic (or file, when
/// there is no dead-letter topic): at-least-once. Record keys and headers go
/// from the source to the sink and the dead-letter topic. Errors name the
/// pipeline file, line and key.
///
/// Flows: each partition is a flow (RecordBatch::Entry::flow); the source
/// reports it opened when the partition is assigned and closed when it is
/// revoked, after the consumer's drain (Source::flow_events), so plugin
/// processors keep one instance per partition. A rebalance ends the batch
/// being filled; records of a revoked partition not yet in the pipeline are
/// left to the next owner. Backpressure: once the pipeline's queue has been
/// full (Source::backpressure) for backpressure_pause_ms, every assigned
/// partition is paused (Consumer::pause_fetching) until a batch comes back;
/// 0 pauses at once.
[[nodiscard]] Result<pipeline::ExternalStages> make_kafka_stages(const pipeline::PipelineSpec& spec);

/// The consumer counters of a source made by make_kafka_stages; nullopt for
/// any other source.
[[nodiscard]] std::optional<ConsumerStats> kafka_source_stats(const pipeline::Source& source);

}  // namespace wasmplug::kafka
