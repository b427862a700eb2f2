#!/usr/bin/env bash
# Refreshes corpus/fuzz_load (committed): the test guests and example plugins
# of a normal build (BUILD_DIR, default build), the fuzz_guest modules of the
# fuzz build (build-fuzz) and the hand-made modules in seeds/*.wat. Files are
# named *.module because .gitignore ignores *.wasm.
set -euo pipefail
cd "$(dirname "$0")"
build="../../${BUILD_DIR:-build}"
out=corpus/fuzz_load
mkdir -p "$out"
for f in "$build"/tests/guests/guest_*.wasm; do
  b=$(basename "$f" .wasm); cp "$f" "$out/${b#guest_}.module"
done
for f in "$build"/examples/plugins/*.wasm; do
  cp "$f" "$out/example_$(basename "$f" .wasm).module"
done
for f in ../../build-fuzz/tests/fuzz/guests/*.wasm; do
  [[ -e $f ]] && cp "$f" "$out/$(basename "$f" .wasm).module"
done
for f in seeds/*.wat; do
  b=$(basename "$f" .wat)
  wat2wasm --enable-all "$f" -o "$out/$b.module"
done
echo "$(ls "$out" | wc -l) seeds, $(du -sh "$out" | cut -f1) in $out"
