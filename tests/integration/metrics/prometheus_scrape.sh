#!/usr/bin/env bash
# A real Prometheus server scrapes `wasmplug run --metrics-addr` on loopback:
# this script starts its own Prometheus (a generated config scraping our
# endpoint every second, storage in the work dir, web UI on a free loopback
# port; nothing of a system-wide Prometheus is used or touched), waits for a
# scrape, asks Prometheus's HTTP API for `up` and for our series, and checks
# the values against what the run did. Both processes are stopped and the work
# dir removed however the test ends.
# Usage: prometheus_scrape.sh CLI GUEST_DIR WORK_DIR. Exit 77 (skipped) without prometheus or curl.
set -euo pipefail
cli=$1 guests=$2 work=$3
for tool in prometheus curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (Debian packages prometheus and curl; scripts/setup.sh installs them)"
    exit 77
  fi
done
source "$(dirname "$0")/run_with_metrics.sh"
rm -rf "$work"
mkdir -p "$work"
prom_pid=""
cleanup() {
  kill_run
  if [[ -n "$prom_pid" ]]; then
    kill "$prom_pid" 2>/dev/null || true
    wait "$prom_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
fail() {
  echo "FAIL: $*"
  [[ -f "$work/prometheus.log" ]] && { echo "--- prometheus log:"; tail -20 "$work/prometheus.log"; }
  exit 1
}

start_run
feed 3 one two "Unreachable here" "Fail me" three
target=${metrics_url#http://}
target=${target%/metrics}

cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: wasmplug
    static_configs:
      - targets: ['$target']
YAML

# A free port for Prometheus itself: a random one nobody answers on; if
# Prometheus still cannot bind it (taken meanwhile), another.
for attempt in 1 2 3 4 5; do
  web_port=$((20000 + RANDOM % 40000))
  curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$web_port/" && continue
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$web_port" >"$work/prometheus.log" 2>&1 3>&- &
  prom_pid=$!
  ready=""
  for _ in $(seq 600); do
    if curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$web_port/-/ready"; then
      ready=1
      break
    fi
    kill -0 "$prom_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$ready" ]] && break
  wait "$prom_pid" 2>/dev/null || true
  prom_pid=""
  grep -q "address already in use" "$work/prometheus.log" || fail "prometheus did not start"
done
[[ -n "$prom_pid" ]] || fail "no free port for prometheus after 5 attempts"
api="http://127.0.0.1:$web_port/api/v1/query"

# query EXPR: the JSON answer of an instant query.
query() { curl -sfG --max-time 5 "$api" --data-urlencode "query=$1"; }
# value EXPR: the sample value of a one-series answer ("" while there is none).
value() { query "$1" | grep -o '"value":\[[0-9.e+]*,"[^"]*"\]' | head -1 | sed 's/.*,"\(.*\)"\]/\1/' || true; }

up=""
for _ in $(seq 60); do
  up=$(value "up{job=\"wasmplug\",instance=\"$target\"}")
  [[ "$up" == 1 ]] && break
  sleep 0.5
done
[[ "$up" == 1 ]] || fail "up{instance=\"$target\"} is '$up' after 30 s, expected 1"

calls=$(value 'wasmplug_calls_total{hook="transform"}')
[[ "$calls" == 5 ]] || fail "wasmplug_calls_total is '$calls', expected 5"
failures=$(value 'sum(wasmplug_call_failures_total)')
[[ "$failures" == 2 ]] || fail "sum(wasmplug_call_failures_total) is '$failures', expected 2"
count=$(value 'wasmplug_call_duration_seconds_count')
[[ "$count" == 5 ]] || fail "wasmplug_call_duration_seconds_count is '$count', expected 5"
# The plugin label came through Prometheus intact (JSON escapes " and \ as our exposition does).
answer=$(query 'wasmplug_calls_total')
grep -qF "\"plugin\":\"$plugin_label\"" <<<"$answer" || fail "plugin label not round-tripped: $answer"

stop_run
[[ $run_status -eq 1 ]] || fail "run exit status $run_status, expected 1 (two failed records)"
echo "PASS: Prometheus scraped $target: up=1, wasmplug_calls_total=5, failures=2"
