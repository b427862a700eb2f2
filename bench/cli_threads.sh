#!/usr/bin/env bash
# `wasmplug run --threads N` scaling on the real redact example: N = 1 and 2
# (or the counts given as arguments) over >= 100k events, best wall time of
# RUNS runs each, and the speed-up over one thread. Outputs are compared
# byte for byte with the one-thread run.
#
#   bash bench/cli_threads.sh [THREADS...]     (BUILD_DIR=build RUNS=5 COPIES=34 ISOLATION=fresh)
#
# Uses hyperfine when installed, else its own timing loop (same figures:
# wall time of the whole process, input from a file, output to a file).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
runs=${RUNS:-5}
copies=${COPIES:-34}   # 34 x the 3000-event sample = 102,000 events
isolation=${ISOLATION:-fresh}
cli="$build/tools/wasmplug/wasmplug"
plugin="$build/examples/plugins/redact.wasm"
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
for f in "$cli" "$plugin"; do
  [ -e "$f" ] || { echo "missing $f: cmake --build $build --target wasmplug_cli example_plugins" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$copies"); do cat examples/data/events.jsonl; done >"$work/events.jsonl"
events=$(wc -l <"$work/events.jsonl")
echo "$events events, redact (transform), isolation $isolation, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

best_of() {  # best wall seconds of $runs runs of: run --threads $1
  local best="" t0 t1 s
  for _ in $(seq "$runs"); do
    t0=$(date +%s.%N)
    # A generous deadline: on a loaded machine a descheduled call must not become a Timeout.
    "$cli" run "$plugin" --isolation "$isolation" --threads "$1" --deadline-ms 10000 \
      --input "$work/events.jsonl" --output "$work/out.$1" 2>"$work/err.$1" || { cat "$work/err.$1" >&2; exit 1; }
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
  done
  echo "$best"
}

if command -v hyperfine >/dev/null; then
  cmds=()
  for n in "${threads[@]}"; do
    cmds+=("$cli run $plugin --isolation $isolation --threads $n --deadline-ms 10000 --input $work/events.jsonl --output $work/out.$n")
  done
  hyperfine --warmup 1 --runs "$runs" "${cmds[@]}"
fi

base=""
for n in "${threads[@]}"; do
  s=$(best_of "$n")
  [ -n "$base" ] || base=$s
  if ! cmp -s "$work/out.${threads[0]}" "$work/out.$n"; then
    echo "output of --threads $n differs from --threads ${threads[0]}:" >&2
    cat "$work/err.$n" >&2
    exit 1
  fi
  printf 'threads %-3s best of %s: %.3f s  %8.0f events/s  speed-up %.2fx\n' "$n" "$runs" "$s" \
    "$(echo "$events / $s" | bc -l)" "$(echo "$base / $s" | bc -l)"
done
