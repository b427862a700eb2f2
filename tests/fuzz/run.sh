#!/usr/bin/env bash
# Runs the libFuzzer targets of build-fuzz (cmake --preset fuzz).
#   tests/fuzz/run.sh smoke [SECONDS]        each target SECONDS (default 30) over its seed
#                                            corpus; fails on any crash, hang or leak (CI)
#   tests/fuzz/run.sh long TARGET SECONDS    one target for SECONDS, keeps going after
#                                            findings (-fork=1), corpus in $FUZZ_WORK_DIR
# Findings (crash-*, timeout-*, leak-*, oom-*) land in $FUZZ_WORK_DIR/<target>/artifacts
# (default build-fuzz/fuzz-work). Reproduce one: build-fuzz/tests/fuzz/<target> <file>.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir="${BUILD_DIR:-build-fuzz}"
work="${FUZZ_WORK_DIR:-$build_dir/fuzz-work}"
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" ]] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi
common=(-timeout=10 -rss_limit_mb=4096 -print_final_stats=1)

prepare() {  # target -> prints the scratch corpus dir
  mkdir -p "$work/$1/corpus" "$work/$1/artifacts"
  echo "$work/$1"
}

case "${1:-smoke}" in
  smoke)
    seconds="${2:-30}"
    for target in fuzz_load fuzz_guest fuzz_json; do
      dir=$(prepare "$target")
      echo "== $target: ${seconds} s over tests/fuzz/corpus/$target"
      # The seed corpus is only read; new inputs go to the scratch corpus.
      if ! "$build_dir/tests/fuzz/$target" "${common[@]}" -max_total_time="$seconds" \
          -artifact_prefix="$dir/artifacts/" "$dir/corpus" "tests/fuzz/corpus/$target" >"$dir/log.txt" 2>&1; then
        tail -n 60 "$dir/log.txt"
        echo "$target: FAILED; reproducer in $dir/artifacts/ (log: $dir/log.txt)" >&2
        exit 1
      fi
      grep -E '^stat::number_of_executed_units|^Done' "$dir/log.txt" || true
    done
    ;;
  long)
    target="${2:?target: fuzz_load, fuzz_guest or fuzz_json}"
    seconds="${3:?seconds}"
    dir=$(prepare "$target")
    echo "== $target for ${seconds} s; findings in $dir/artifacts/, log $dir/log.txt"
    "$build_dir/tests/fuzz/$target" "${common[@]}" -max_total_time="$seconds" -fork=1 -ignore_crashes=1 \
      -ignore_timeouts=1 -ignore_ooms=1 -artifact_prefix="$dir/artifacts/" \
      "$dir/corpus" "tests/fuzz/corpus/$target" >"$dir/log.txt" 2>&1 || true
    tail -n 5 "$dir/log.txt"
    ls "$dir/artifacts"
    ;;
  *)
    echo "usage: $0 smoke [SECONDS] | long TARGET SECONDS" >&2
    exit 2
    ;;
esac
