// Kafka as a pipeline source, sink and dead-letter topic (type = "kafka").
#pragma once

#include "wasmplug/pipeline.hpp"

namespace wasmplug::kafka {

/// The pipeline::StageFactory for `type = "kafka"` in [source], [sink] and
/// [dead_letter] (docs/pipelines-kafka.md):
///
///   [source] brokers, group, topics (string or array), and optionally
///            max_unacknowledged_per_partition (10000), commit_interval_ms (1000),
///            drain_timeout_ms (30000), exit_after_idle_ms (0: never).
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
[[nodiscard]] Result<pipeline::ExternalStages> make_kafka_stages(const pipeline::PipelineSpec& spec);

}  // namespace wasmplug::kafka
