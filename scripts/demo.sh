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
