#!/usr/bin/env bash
# `wasmplug pipeline run --metrics-addr`: while a pipeline runs, /metrics
# serves the plugins' call metrics and the pipeline's per-stage series, and
# `promtool check metrics` accepts them. The source is a FIFO this shell holds
# open, so the pipeline keeps serving until the test closes it.
# Usage: pipeline_metrics.sh CLI GUEST_DIR WORK_DIR. Exit 77 (skipped) without promtool.
set -euo pipefail
cli=$1 guests=$2 work=$3
if ! command -v promtool >/dev/null || ! command -v curl >/dev/null; then
  echo "SKIP: promtool or curl not found (scripts/setup.sh installs them)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
run_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  [[ -n "$run_pid" ]] && { kill "$run_pid" 2>/dev/null || true; wait "$run_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

cp "$guests/guest_hostile.wasm" "$work/hostile.wasm"
cat >"$work/p.toml" <<TOML
[pipeline]
threads = 2
dead_letter = "dead.jsonl"
[source]
type = "file"
path = "in"
[[processor]]
name = "hostile"
path = "hostile.wasm"
hook = "transform"
[sink]
type = "file"
path = "out"
TOML
mkfifo "$work/in"
exec 3<>"$work/in"
"$cli" pipeline run "$work/p.toml" --metrics-addr 127.0.0.1:0 2>"$work/stderr" 3>&- &
run_pid=$!
url=""
for _ in $(seq 300); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics' "$work/stderr" || true)
  [[ -n "$url" ]] && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "FAIL: no metrics address printed; stderr:"; cat "$work/stderr"; exit 1; }

# Five records (one traps, one fails in the guest); wait until /metrics shows
# all five through the processor stage (the pipeline may batch them).
printf '%s\n' one two "Unreachable here" "Fail me" three >&3
want='wasmplug_pipeline_records_total{stage="hostile",type="plugin:native",outcome="in"} 5'
for _ in $(seq 300); do
  curl -sS --max-time 10 -o "$work/metrics.txt" "$url" || true
  grep -qxF "$want" "$work/metrics.txt" 2>/dev/null && break
  sleep 0.1
done
grep -qxF "$want" "$work/metrics.txt" || { echo "FAIL: no line: $want"; cat "$work/metrics.txt"; exit 1; }
if ! promtool check metrics <"$work/metrics.txt" >"$work/check.out" 2>&1; then
  echo "FAIL: promtool check metrics rejects the pipeline's /metrics:"
  cat "$work/check.out" "$work/metrics.txt"
  exit 1
fi
for line in \
  'wasmplug_pipeline_records_total{stage="hostile",type="plugin:native",outcome="failed"} 2' \
  'wasmplug_calls_total{plugin="hostile",hook="transform"} 5'; do
  grep -qxF "$line" "$work/metrics.txt" || { echo "FAIL: no line: $line"; cat "$work/metrics.txt"; exit 1; }
done

exec 3>&-
status=0
wait "$run_pid" || status=$?
run_pid=""
[[ $status -eq 1 ]] || { echo "FAIL: exit status $status, expected 1 (two failed records)"; cat "$work/stderr"; exit 1; }
echo "PASS: pipeline run serves per-stage and call metrics that promtool accepts"
