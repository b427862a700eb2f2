#!/usr/bin/env bash
# `promtool check metrics` on what `wasmplug run --metrics-addr` serves after
# real plugin calls (histograms, failures by kind and phase, a plugin label
# with a quote and a backslash). First it checks that promtool does reject a
# broken exposition, so a pass means something.
# Usage: promtool_check.sh CLI GUEST_DIR WORK_DIR. Exit 77 (skipped) without promtool.
set -euo pipefail
cli=$1 guests=$2 work=$3
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not found (Debian package prometheus; scripts/setup.sh installs it)"
  exit 77
fi
source "$(dirname "$0")/run_with_metrics.sh"
rm -rf "$work"
mkdir -p "$work"
trap 'kill_run; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

start_run
feed 3 one two "Unreachable here" "Fail me" three

curl -sS --max-time 10 -D "$work/headers" -o "$work/metrics.txt" "$metrics_url"
grep -q '^HTTP/1.1 200' "$work/headers" || { echo "FAIL: status"; cat "$work/headers"; exit 1; }
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$work/headers" ||
  { echo "FAIL: content type"; cat "$work/headers"; exit 1; }

# The check must be able to fail: the same text with one label value broken.
{ cat "$work/metrics.txt"; printf 'wasmplug_calls_total{plugin="un"escaped",hook="transform"} 1\n'; } >"$work/broken.txt"
if promtool check metrics <"$work/broken.txt" >"$work/broken.out" 2>&1; then
  echo "FAIL: promtool accepted a broken exposition; the check below would prove nothing"
  exit 1
fi

if ! promtool check metrics <"$work/metrics.txt" >"$work/check.out" 2>&1; then
  echo "FAIL: promtool check metrics rejects /metrics:"
  cat "$work/check.out"
  echo "--- served text:"
  cat "$work/metrics.txt"
  exit 1
fi

# What the check validated is what the run did: 5 calls, a trap and a guest error.
expect() {
  grep -qxF "$1" "$work/metrics.txt" || { echo "FAIL: no line: $1"; cat "$work/metrics.txt"; exit 1; }
}
expect "wasmplug_calls_total{plugin=\"$plugin_label\",hook=\"transform\"} 5"
expect "wasmplug_call_failures_total{plugin=\"$plugin_label\",hook=\"transform\",kind=\"Trap\",phase=\"call\"} 1"
expect "wasmplug_call_failures_total{plugin=\"$plugin_label\",hook=\"transform\",kind=\"GuestError\",phase=\"call\"} 1"
expect "wasmplug_call_duration_seconds_count{plugin=\"$plugin_label\",hook=\"transform\"} 5"
expect "wasmplug_call_duration_seconds_bucket{plugin=\"$plugin_label\",hook=\"transform\",le=\"+Inf\"} 5"

stop_run
[[ $run_status -eq 1 ]] || { echo "FAIL: run exit status $run_status, expected 1 (two failed records)"; exit 1; }
echo "PASS: promtool check metrics accepts the exposition (and rejects a broken one)"
