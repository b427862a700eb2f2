#!/usr/bin/env bash
# Installs what the build needs and is missing: Debian packages (C++ deps,
# clang-19 + lld-19 + wasi-libc (+ libc++ for C++ guests) for guest plugins,
# wabt for WAT, libclang-rt-19-dev for the libFuzzer targets) and checks
# for cargo (Wasmtime is built from the Rust crate registry by CMake);
# dpkg-dev (dpkg-shlibdeps) and file for the .deb that cpack makes;
# libcpp-httplib-dev for the metrics HTTP server, and prometheus (promtool and
# the server) + curl for the tests that validate and scrape /metrics; valgrind
# and python3 for bench/peers/run.sh (callgrind counts, the report);
# librdkafka-dev for the Kafka source and sink, and maven + OpenJDK 17 to
# fetch and run the Apache Kafka broker that the Kafka tests start.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache dpkg-dev file
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libcli11-dev libsimdjson-dev libre2-dev
  libtomlplusplus-dev
  clang-tidy-19 clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 wabt
  libclang-rt-19-dev
  libcpp-httplib-dev prometheus curl
  valgrind python3
  librdkafka-dev maven openjdk-17-jre-headless
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found; install Rust (rustc >= 1.95) so that Wasmtime can be built" >&2
  exit 1
fi

# Guest plugins in Rust (sdk/rust) build for wasm32-unknown-unknown.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the Rust target wasm32-unknown-unknown (guest plugins in Rust)"
  if ! command -v rustup >/dev/null || ! rustup target add wasm32-unknown-unknown; then
    echo "setup: cannot add the Rust target wasm32-unknown-unknown (needs rustup and network access to the" \
         "Rust distribution server); Rust guest plugins cannot be built. Install it, or configure with" \
         "-DWASMPLUG_GUEST_LANGS=assemblyscript to build without them." >&2
    exit 1
  fi
fi

# The torvyn profile's test guests are WebAssembly components built by rustc
# for wasm32-wasip2 (rustc >= 1.95 links them with wasm-component-ld).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  echo "setup: adding the Rust target wasm32-wasip2 (guest components of the torvyn profile)"
  if ! command -v rustup >/dev/null || ! rustup target add wasm32-wasip2; then
    echo "setup: cannot add the Rust target wasm32-wasip2 (needs rustup and network access to the" \
         "Rust distribution server); the torvyn test components cannot be built. Install it, or configure with" \
         "-DWASMPLUG_GUEST_LANGS=assemblyscript to build without Rust guests." >&2
    exit 1
  fi
fi

# Guest plugins in AssemblyScript (sdk/assemblyscript): the build runs `npm ci`
# for the pinned compiler (into ~/.cache/wasmplug/npm, outside the clone), which
# needs Node.js >= 20 and npm.
if ! command -v npm >/dev/null || ! command -v node >/dev/null ||
   (($(node -p "process.versions.node.split('.')[0]") < 20)); then
  echo "setup: AssemblyScript guest plugins need Node.js >= 20 with npm (found: $(node --version 2>/dev/null ||
        echo none)). Install it, or configure with -DWASMPLUG_GUEST_LANGS=rust to build without them." >&2
  exit 1
fi

# Go >= 1.24 builds the Go SDK's example plugins (GOOS=wasip1, //go:wasmexport).
# Debian 12's golang is too old, so it is not installed from apt; without it
# the build skips the Go examples and their tests (CMake warns).
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
  echo "setup: warning: go not found; the Go plugin examples will be skipped." >&2
  echo "setup:          install Go >= 1.24 from https://go.dev/dl/ into /usr/local/go (or put go on PATH)" >&2
elif ! go env GOVERSION | grep -Eq '^go1\.(2[4-9]|[3-9][0-9])'; then
  echo "setup: warning: $(command -v go) is $(go env GOVERSION); Go plugins need Go >= 1.24 (https://go.dev/dl/)" >&2
fi

# The Kafka tests and benchmarks start a real Apache Kafka broker
# (tests/kafka/broker.sh): its jars come from Maven Central through Maven,
# into ~/.cache/wasmplug/kafka (outside the clone). Skipped when the jars for
# the current tests/kafka/pom.xml are there already.
kafka_cache=${WASMPLUG_KAFKA_CACHE:-$HOME/.cache/wasmplug/kafka}
kafka_pom="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/kafka/pom.xml"
kafka_stamp=$(sha256sum "$kafka_pom" | cut -d' ' -f1)
if [[ "$(cat "$kafka_cache/jars/.pom-sha256" 2>/dev/null)" != "$kafka_stamp" ]]; then
  echo "setup: fetching the Apache Kafka broker jars from Maven Central into $kafka_cache/jars"
  rm -rf "$kafka_cache/jars"
  mkdir -p "$kafka_cache"
  if ! mvn -q -B -f "$kafka_pom" -Dmaven.repo.local="$HOME/.cache/wasmplug/m2" \
         dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$kafka_cache/jars"; then
    echo "setup: fetching the Kafka jars through Maven failed (needs network access to Maven Central);" \
         "the Kafka tests (CTest label kafka) cannot run without them." >&2
    exit 1
  fi
  echo "$kafka_stamp" >"$kafka_cache/jars/.pom-sha256"
fi
