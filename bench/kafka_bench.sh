#!/usr/bin/env bash
# Kafka pipeline throughput (docs/benchmarks.md): starts a throw-away broker
# (tests/kafka/broker.sh), runs bench/kafka_bench.cpp, stops the broker.
#   bash bench/kafka_bench.sh [RECORDS]      (BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
dir=$(mktemp -d /tmp/wasmplug-kafka-bench.XXXXXX)
trap 'bash tests/kafka/broker.sh stop "$dir"; rm -rf "$dir"' EXIT
brokers=$(bash tests/kafka/broker.sh start "$dir")
"$build/bench/wasmplug_kafka_bench" "$brokers" "$build/examples/plugins/enrich.wasm" "${1:-500000}"
