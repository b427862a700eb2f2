#!/usr/bin/env bash
# Builds everything and runs the whole test suite (GoogleTest via CTest).
# Tests run one at a time: some measure deadlines and should not compete
# for the two cores with each other.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --timeout 300
