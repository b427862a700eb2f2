#!/usr/bin/env bash
# Builds everything, runs clang-tidy (.clang-tidy) and the whole test suite
# (GoogleTest via CTest), then
# the concurrency tests again under AddressSanitizer + UBSan (the sanitizer
# that works with Wasmtime's signal handlers; see docs/embedding.md), and
# last a short smoke run of each libFuzzer target (tests/fuzz/README.md).
# Tests run one at a time: some measure deadlines and should not compete for
# the two cores with each other.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
source scripts/env.sh
echo "== clang-tidy (bugprone, performance)"
bash scripts/tidy.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --timeout 300

if [[ "${WASMPLUG_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== concurrency, hostile, admission, profile, component, pipeline, session, fresh-call and SDK tests under ASan + UBSan"
  cmake --preset asan >/dev/null
  cmake --build build-asan --parallel "$(nproc)" --target wasmplug_tests wasmplug_pipeline_tests
  ctest --test-dir build-asan --output-on-failure --timeout 300 \
    -R '^(Concurrency|RegistryTest|WarmPool|Metrics|Hostile|Rustcdc|CcLb|Kestrel|Mutation|Admission|CompileCost|HostFunctions|HostApi|Result|Sections|Sdk|ModuleCacheTest|Torvyn|Pipeline|SessionTest|FreshCall)'
fi

if [[ "${WASMPLUG_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzz smoke: each libFuzzer target 30 s over its seed corpus (tests/fuzz)"
  cmake --preset fuzz >/dev/null
  cmake --build build-fuzz --parallel "$(nproc)" --target fuzz_targets
  bash tests/fuzz/run.sh smoke 30
fi
