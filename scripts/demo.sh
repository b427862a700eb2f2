#!/usr/bin/env bash
# The main job on bundled sample data: the redact example plugin over 3,000
# JSON-lines events. Output goes to build/demo/redacted.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
mkdir -p build/demo
./build/tools/wasmplug/wasmplug inspect build/examples/plugins/redact.wasm
./build/tools/wasmplug/wasmplug run build/examples/plugins/redact.wasm --hook transform \
  --input examples/data/events.jsonl --output build/demo/redacted.jsonl --errors build/demo/errors.jsonl
echo "--- first records of build/demo/redacted.jsonl:"
head -n 3 build/demo/redacted.jsonl

# The same plugin in a pipeline (docs/pipelines.md): route-filter keeps
# warn and above, redact masks them, the broken line goes to the dead-letter
# file. Exit status 1 says that one record failed, as it should here.
status=0
./build/tools/wasmplug/wasmplug pipeline run examples/pipelines/redact-warnings.toml || status=$?
if [ "$status" -ne 1 ]; then
  echo "demo: the pipeline should fail exactly the broken record (exit 1), got exit $status" >&2
  exit 1
fi
echo "--- first records of build/demo/pipeline-out.jsonl:"
head -n 2 build/demo/pipeline-out.jsonl
echo "--- build/demo/pipeline-dead-letter.jsonl:"
cat build/demo/pipeline-dead-letter.jsonl

# torvyn components as source, processors and sink (docs/pipelines.md,
# "Component stages"), when the build made the test components (rust in
# WASMPLUG_GUEST_LANGS): 1,000 events, prefixed and uppercased, into a sink
# component that pauses every 100th and checks at complete() that all came.
if [ -f build/tests/guests/torvyn/source.wasm ]; then
  ./build/tools/wasmplug/wasmplug pipeline run examples/pipelines/components.toml
else
  echo "demo: no torvyn components in build/tests/guests/torvyn (rust not in WASMPLUG_GUEST_LANGS): skipping components.toml"
fi
