#!/usr/bin/env bash
# wasmplug beside its peers on the same guests and inputs (issue 13):
#   - the SDK's C uppercase guest (tests/guests/c/upper.c), a 64-byte input:
#     wasmplug (warm, warm + metrics, fresh), a bare Rust host on the wasmtime
#     crate 48.0.8 (bench/peers/rust: warm, fresh tuned, fresh the cc-lb seed's
#     way), Node.js/V8 (bench/peers/node_host.mjs: warm, fresh), native C++;
#   - the Kestrel 3-field predicate (tests/guests/c/kestrel_3fields.c):
#     wasmplug vs Node.js/V8;
#   - callgrind instructions per warm call: wasmplug vs the Rust host;
#   - 1 -> 2 threads, warm and fresh (wasmplug and the Rust host), with CPU
#     time per wall second, beside controls through the same thread loop that
#     show the machine's own ceiling: the native C++ work, an ALU-bound loop,
#     an L2-bound and a DRAM-bound private walk; and the round trip of a cache
#     line between CPU 0 and CPU 1 (are the two vCPUs SMT siblings?).
# Then bench/peers/report.py writes the table and docs/peers.svg into
# docs/benchmarks.md (between the peers markers).
#
#   bash bench/peers/run.sh            # RUNS=3 CALLS=200000 FRESH_CALLS=20000
#
# BUILD_DIR (default build/) must be configured with -DWASMPLUG_BUILD_BENCH=ON.
# The Rust host builds into the same cargo target directory as wasmplug's
# Wasmtime (WASMPLUG_CARGO_TARGET_DIR from the CMake cache) with the same
# dependency features, so cargo reuses the compiled Wasmtime.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
RUNS=${RUNS:-3}
CALLS=${CALLS:-200000}
FRESH_CALLS=${FRESH_CALLS:-20000}
OUT=${OUT:-$BUILD_DIR/peers}
export PATH="$HOME/.cargo/bin:$PATH"

source "$ROOT/bench/peers/preflight.sh"
CARGO_DIR=$(sed -n 's/^WASMPLUG_CARGO_TARGET_DIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
[[ -n "$CARGO_DIR" ]] || die "no WASMPLUG_CARGO_TARGET_DIR in $BUILD_DIR/CMakeCache.txt"

cmake --build "$BUILD_DIR" --target wasmplug_peer test_guests
CARGO_TARGET_DIR="$CARGO_DIR" cargo build --release --locked --manifest-path "$ROOT/bench/peers/rust/Cargo.toml"

PEER_CXX="$BUILD_DIR/bench/wasmplug_peer"
PEER_RUST="$CARGO_DIR/release/peer_rust"
NODE_HOST="$ROOT/bench/peers/node_host.mjs"
GUESTS="$BUILD_DIR/tests/guests"
UPPER="$GUESTS/guest_upper.wasm"
KESTREL="$GUESTS/guest_kestrel_3fields.wasm"
mkdir -p "$OUT"
RESULTS="$OUT/results.txt"
: >"$RESULTS"

note() { echo "$*" | tee -a "$RESULTS"; }
note "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "node $(node --version), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# Interleaved, so that a noisy minute hurts every host alike.
for run in $(seq 1 "$RUNS"); do
  echo "== run $run of $RUNS" >&2
  {
    "$PEER_CXX" native "$CALLS"
    "$PEER_CXX" warm "$CALLS"
    "$PEER_RUST" "$UPPER" warm "$CALLS"
    node "$NODE_HOST" upper "$UPPER" warm "$CALLS"
    "$PEER_CXX" warm-metrics "$CALLS"
    "$PEER_CXX" fresh "$FRESH_CALLS"
    "$PEER_RUST" "$UPPER" fresh "$FRESH_CALLS"
    "$PEER_RUST" "$UPPER" fresh-seed "$FRESH_CALLS"
    node "$NODE_HOST" upper "$UPPER" fresh "$FRESH_CALLS"
    "$PEER_CXX" kestrel "$CALLS"
    node "$NODE_HOST" kestrel "$KESTREL" "$CALLS"
    "$PEER_CXX" pingpong 200000
    for mode in native-threads alu-threads l2-threads membound-threads warm-threads fresh-threads; do
      "$PEER_CXX" "$mode" 1
      "$PEER_CXX" "$mode" 2
      if [[ $mode == warm-threads || $mode == fresh-threads ]]; then
        "$PEER_RUST" "$UPPER" "$mode" 1
        "$PEER_RUST" "$UPPER" "$mode" 2
      fi
    done
  } | sed "s/^/run=$run /" | tee -a "$RESULTS"
done

# Instructions per warm call: two run lengths, the difference divided by the
# extra calls (start-up and compilation cancel out). Valgrind cannot reserve
# 256 pool slots of address space: both hosts run with 4 slots.
echo "== callgrind" >&2
CG="$OUT/callgrind"
mkdir -p "$CG"
for n in 5000 10000; do
  PEER_MAX_INSTANCES=4 valgrind --tool=callgrind --callgrind-out-file="$CG/wasmplug.$n.out" \
    "$PEER_CXX" warm-loop "$n" >/dev/null 2>"$CG/wasmplug.$n.log"
  PEER_MAX_INSTANCES=4 valgrind --tool=callgrind --callgrind-out-file="$CG/rust.$n.out" \
    "$PEER_RUST" "$UPPER" warm-loop "$n" >/dev/null 2>"$CG/rust.$n.log"
done
python3 "$ROOT/bench/peers/callgrind_split.py" "$CG" 5000 10000 | tee -a "$RESULTS"

python3 "$ROOT/bench/peers/report.py" "$RESULTS" "$ROOT/docs/benchmarks.md" "$ROOT/docs/peers.svg"
echo "wrote $RESULTS, docs/benchmarks.md (peers section), docs/peers.svg" >&2
