#!/usr/bin/env bash
# A throw-away single-node Apache Kafka (KRaft: broker and controller in one
# JVM) on 127.0.0.1 for the Kafka tests and benchmarks.
#
#   broker.sh start DIR     format DIR (once) and start; prints the bootstrap address
#   broker.sh stop DIR      stop it (SIGTERM, then SIGKILL after 30 s); no error if not running
#   broker.sh restart DIR   stop and start again on the same ports and data
#   broker.sh address DIR   print the bootstrap address (host:port)
#
# The jars come from Maven Central through scripts/setup.sh into
# $WASMPLUG_KAFKA_JARS (default ~/.cache/wasmplug/kafka/jars). Ports are
# picked free at the first start and kept in DIR/ports so that a restarted
# broker is where its clients left it. The heap is small (the test machine
# has 2 cores and little to spare): WASMPLUG_KAFKA_HEAP (default 512m).
set -euo pipefail

prefix=()
jars=${WASMPLUG_KAFKA_JARS:-$HOME/.cache/wasmplug/kafka/jars}
heap=${WASMPLUG_KAFKA_HEAP:-512m}
cmd=${1:-}
dir=${2:-}
if [[ -z $cmd || -z $dir ]]; then
  echo "usage: broker.sh start|stop|restart|address DIR" >&2
  exit 2
fi

die() { echo "broker.sh: $*" >&2; exit 1; }

free_port() {
  # Bind port 0 and let the kernel choose; the broker binds it a moment later.
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

java_cmd() {
  "${prefix[@]}" java -Xmx"$heap" -Xms128m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$jars/*" "$@"
}

configure() {
  [[ -d $jars ]] && compgen -G "$jars/kafka_2.13-*.jar" >/dev/null ||
    die "no Kafka jars in $jars: run scripts/setup.sh (it fetches org.apache.kafka:kafka_2.13 through Maven)"
  mkdir -p "$dir"
  if [[ ! -f $dir/ports ]]; then
    echo "$(free_port) $(free_port)" >"$dir/ports"
  fi
  read -r broker_port controller_port <"$dir/ports"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.flush.interval.messages=9223372036854775807
PROPS
  cat >"$dir/log4j.properties" <<PROPS
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
PROPS
}

running() { [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

start() {
  configure
  if running; then
    echo "127.0.0.1:$broker_port"
    return
  fi
  if [[ ! -f $dir/data/meta.properties ]]; then
    local id
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    java_cmd kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      die "formatting the storage failed: $(tail -5 "$dir/format.log")"
  fi
  # setsid: the broker leaves with neither the caller's terminal nor its process group.
  prefix=(exec setsid)
  (java_cmd kafka.Kafka "$dir/server.properties" >>"$dir/broker.log" 2>&1 </dev/null) &
  echo $! >"$dir/pid"
  local deadline=$((SECONDS + ${WASMPLUG_KAFKA_START_TIMEOUT:-120}))
  local starts
  touch "$dir/broker.log"
  starts=$(grep -c 'Kafka Server started' "$dir/broker.log" || true)
  until (($(grep -c 'Kafka Server started' "$dir/broker.log" || true) > starts)); do
    running || die "the broker exited while starting: $(tail -20 "$dir/broker.log")"
    ((SECONDS < deadline)) || { stop; die "the broker did not start within ${WASMPLUG_KAFKA_START_TIMEOUT:-120} s (log: $dir/broker.log)"; }
    sleep 0.2
  done
  echo "127.0.0.1:$broker_port"
}

stop() {
  running || { rm -f "$dir/pid"; return 0; }
  local pid
  pid=$(cat "$dir/pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$dir/pid"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  address) configure; echo "127.0.0.1:$broker_port" ;;
  *) die "unknown command '$cmd' (start|stop|restart|address)" ;;
esac
