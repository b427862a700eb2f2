# Sourced by run.sh and kestrel.sh: die() naming the script, and the checks
# both need before they build (a configured build with benchmarks, node and
# valgrind on PATH). Needs BUILD_DIR set.
die() { echo "$(basename "$0"): $*" >&2; exit 1; }
[[ -f "$BUILD_DIR/CMakeCache.txt" ]] || die "$BUILD_DIR is not a configured build (set BUILD_DIR)"
grep -q '^WASMPLUG_BUILD_BENCH:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" ||
  die "$BUILD_DIR was configured without -DWASMPLUG_BUILD_BENCH=ON"
command -v node >/dev/null || die "node not found (Node.js 20: scripts/setup.sh)"
command -v valgrind >/dev/null || die "valgrind not found (scripts/setup.sh)"
