#!/usr/bin/env bash
# clang-tidy (.clang-tidy: bugprone, performance, member init, slicing) over
# the library and the CLI, using the build's compile_commands.json. Any
# finding fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
tidy=$(command -v clang-tidy-19 || command -v clang-tidy) || { echo "clang-tidy not found" >&2; exit 1; }
files=$(ls src/*.cpp src/*/*.cpp tools/wasmplug/*.cpp)
# Two files at a time (2 cores). clang-tidy counts suppressed warnings on
# stderr ("N warnings generated."): drop those lines, keep everything else.
echo "$files" | xargs -P 2 -n 1 "$tidy" -p "$build_dir" --quiet 2>&1 | grep -v 'warnings\{0,1\}\( and [0-9]* errors\{0,1\}\)\{0,1\} generated\.$'
status=${PIPESTATUS[1]}
if [[ $status -ne 0 ]]; then
  echo "clang-tidy: findings above (exit $status)" >&2
  exit 1
fi
echo "clang-tidy: $(echo "$files" | wc -l) files clean"
