# Sourced by the /metrics tests: starts `wasmplug run` on the hostile test
# guest with --metrics-addr 127.0.0.1:0, its input a FIFO this shell holds
# open, so that the run keeps serving until stop_run. The plugin file is named
# re"d\act.wasm: a quote and a backslash in the plugin label.
# Needs: $cli, $guests, $work. Sets: run_pid, metrics_url, plugin_label.

run_pid=""
start_run() {
  local plugin="$work/re\"d\\act.wasm"
  cp "$guests/guest_hostile.wasm" "$plugin"
  plugin_label='re\"d\\act.wasm'
  mkfifo "$work/in"
  # Read-write: opening does not block, and the run sees EOF only when fd 3 closes.
  exec 3<>"$work/in"
  "$cli" run "$plugin" --format lines --input "$work/in" --output "$work/out" --errors "$work/errors" \
    --threads 2 --metrics-addr 127.0.0.1:0 2>"$work/stderr" 3>&- &
  run_pid=$!
  metrics_url=""
  for _ in $(seq 300); do
    metrics_url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics' "$work/stderr" || true)
    [[ -n "$metrics_url" ]] && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$metrics_url" ]]; then
    echo "FAIL: wasmplug run did not print its metrics address; stderr:" >&2
    cat "$work/stderr" >&2
    return 1
  fi
}

# Feeds records and waits until the run has written `outputs` lines.
feed() {
  local outputs=$1
  shift
  printf '%s\n' "$@" >&3
  for _ in $(seq 300); do
    [[ -f "$work/out" && $(wc -l <"$work/out") -ge $outputs ]] && return 0
    sleep 0.1
  done
  echo "FAIL: the run did not write $outputs records; stderr:" >&2
  cat "$work/stderr" >&2
  return 1
}

# Ends the input; the run drains and exits. Its status is in run_status.
stop_run() {
  exec 3>&-
  run_status=0
  if [[ -n "$run_pid" ]]; then
    wait "$run_pid" || run_status=$?
    run_pid=""
  fi
}

# For trap EXIT: ends the run however the test ended.
kill_run() {
  exec 3>&- 2>/dev/null || true
  if [[ -n "$run_pid" ]]; then
    kill "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
}
