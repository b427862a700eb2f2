#!/usr/bin/env bash
# The Kestrel goal of issue 13 on its own: wasmplug's Engine::evaluate of the
# 3-field predicate (tests/guests/c/kestrel_3fields.c) beside Node.js/V8
# running the same .wasm on the same event (bench/peers/node_host.mjs), RUNS
# interleaved runs, then callgrind instructions per evaluation.
#
#   bash bench/peers/kestrel.sh            # RUNS=5 CALLS=200000
#   BASE=/path/to/other/build bash bench/peers/kestrel.sh   # also an older build, interleaved
#
# Prints every run's `NAME p50_ns p99_ns p999_ns mean_ns failures calls` lines
# (per-call TSC / hrtime times, the empty timer pair subtracted; mean over the
# samples up to p99.9), then the medians over the runs and the ratios to Node,
# then `callgrind kestrel instructions_per_evaluation=N` (difference of a
# 5,000- and a 10,000-call run, so start-up and compilation cancel out).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
RUNS=${RUNS:-5}
CALLS=${CALLS:-200000}
BASE=${BASE:-}

source "$ROOT/bench/peers/preflight.sh"
cmake --build "$BUILD_DIR" --target wasmplug_peer test_guests >&2

PEER="$BUILD_DIR/bench/wasmplug_peer"
GUEST="$BUILD_DIR/tests/guests/guest_kestrel_3fields.wasm"
[[ -z "$BASE" || -x "$BASE/bench/wasmplug_peer" ]] || die "no $BASE/bench/wasmplug_peer"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "node $(node --version), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
  {
    "$PEER" kestrel "$CALLS" "$BUILD_DIR/tests/guests"
    node "$ROOT/bench/peers/node_host.mjs" kestrel "$GUEST" "$CALLS"
    if [[ -n "$BASE" ]]; then
      "$BASE/bench/wasmplug_peer" kestrel "$CALLS" "$BUILD_DIR/tests/guests" | sed 's/^wasmplug_kestrel/base_kestrel/'
    fi
  } | tee -a "$OUT/runs.txt"
done

python3 - "$OUT/runs.txt" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append([float(x) for x in f[1:5]])
med = {k: [statistics.median(r[i] for r in v) for i in range(4)] for k, v in rows.items()}
print("median of %d runs: name p50 p99 p99.9 mean (ns)" % len(rows["node_kestrel"]))
for k, v in med.items():
    print("  %-18s %7.1f %7.1f %7.1f %7.1f" % (k, *v))
node = med["node_kestrel"]
for k in med:
    if k != "node_kestrel":
        print("  %s / node: p50 %.2fx  mean %.2fx (goal <= 0.80x)" % (k, med[k][0] / node[0], med[k][3] / node[3]))
EOF

for n in 5000 10000; do
  PEER_MAX_INSTANCES=4 valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$n.out" \
    "$PEER" kestrel-loop "$n" "$BUILD_DIR/tests/guests" >/dev/null 2>"$OUT/cg.$n.log"
done
total() { callgrind_annotate "$1" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,; }
echo "callgrind kestrel instructions_per_evaluation=$(( ($(total "$OUT/cg.10000.out") - $(total "$OUT/cg.5000.out")) / 5000 ))"
