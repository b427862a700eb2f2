#!/usr/bin/env bash
# Scaffolds a project with `wasmplug new NAME --lang <lang>` (the template
# tools/wasmplug/templates/<lang>, embedded in the CLI), builds it with its own
# toolchain as its README says, and runs it through the CLI on its sample
# input. Also checks that the scaffold carries the SDK of sdk/ (embedded through
# the template's `.include` files).
#
#   render_and_build.sh <lang: rust|assemblyscript> <wasmplug CLI> <scratch dir>
set -euo pipefail
lang=$1 cli=$(realpath "$2") scratch=$(realpath -m "$3")
src_root=$(cd "$(dirname "$0")/../.." && pwd)
template="$src_root/tools/wasmplug/templates/$lang"
name=demo-plugin ident=demo_plugin
proj="$scratch/$name"

case $lang in
  rust) sdk_source=sdk/rust/src/lib.rs scaffold_copy=wasmplug-sdk/src/lib.rs ;;
  assemblyscript) sdk_source=sdk/assemblyscript/assembly/index.ts scaffold_copy=wasmplug-sdk/assembly/index.ts ;;
  *) echo "unknown template language: $lang" >&2; exit 2 ;;
esac
[ -d "$template" ] || { echo "no template folder $template" >&2; exit 2; }

rm -rf "$proj" && mkdir -p "$scratch"
"$cli" new "$name" --lang "$lang" --dir "$proj" >/dev/null
cmp "$src_root/$sdk_source" "$proj/$scaffold_copy" ||
  { echo "the scaffold's $scaffold_copy is not $sdk_source (templates/$lang/$scaffold_copy.include)" >&2; exit 1; }

cd "$proj"
case $lang in
  rust)
    export PATH="$HOME/.cargo/bin:$PATH"
    export CARGO_TARGET_DIR="${WASMPLUG_GUEST_CARGO_DIR:-$HOME/.cache/wasmplug/cargo-guest}/templates"
    cargo build --quiet --release
    wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$ident.wasm" ;;
  assemblyscript)
    npm install --no-audit --no-fund --loglevel=error >/dev/null
    npm run --silent build
    wasm="build/$name.wasm" ;;
esac

"$cli" inspect "$wasm" >/dev/null
"$cli" run "$wasm" --input sample.jsonl 2>/dev/null >out.jsonl
expected='{"user":"ann","action":"login","tagged_by":"demo-plugin"}
{"user":"bob","action":"upload","bytes":1024,"tagged_by":"demo-plugin"}
{"tagged_by":"demo-plugin"}'
if [[ "$(cat out.jsonl)" != "$expected" ]]; then
  echo "unexpected output of the $lang template:" >&2
  cat out.jsonl >&2
  exit 1
fi
echo "template $lang: built, admitted, output as its README says"
