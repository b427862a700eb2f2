#!/usr/bin/env bash
# The installed package, as users meet it (run by CTest: tests/package/CMakeLists.txt).
#
#   package_test.sh install     BUILD_DIR PREFIX
#   package_test.sh find_package SRC_DIR PREFIX WORK GENERATOR
#   package_test.sh pkg_config  SRC_DIR PREFIX WORK CXX
#   package_test.sh deb         BUILD_DIR WORK
#   package_test.sh new         LANG PREFIX WORK GENERATOR
#   package_test.sh new_errors  CLI WORK
#
# Every step that can fail says what failed; the script stops at the first.
set -euo pipefail
libdir=${WASMPLUG_LIBDIR:-lib}  # CMAKE_INSTALL_LIBDIR of the build (CTest sets it)

fail() { echo "FAIL: $*" >&2; exit 1; }
# A sub-build must not inherit the outer build's generator or compiler choice.
unset CMAKE_GENERATOR CMAKE_PREFIX_PATH PKG_CONFIG_PATH
check_redacted() {  # stdout of embed_host on the redact example
  grep -q '"card":"\*\{12\}1111"' <<<"$1" || fail "embed_host output not redacted: $1"
  grep -q '"user":"\[email\]"' <<<"$1" || fail "embed_host output not redacted: $1"
}

case "$1" in
install)
  build=$2 prefix=$3
  rm -rf "$prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
  for f in include/wasmplug/runtime.hpp include/wasmplug/host.hpp $libdir/libwasmplug.a $libdir/libwasmplug_wasmtime.a \
           $libdir/cmake/wasmplug/wasmplugConfig.cmake $libdir/cmake/wasmplug/wasmplugConfigVersion.cmake \
           $libdir/cmake/wasmplug/wasmplugTargets.cmake $libdir/pkgconfig/wasmplug.pc bin/wasmplug \
           share/wasmplug/sdk/c/WasmplugPlugin.cmake share/wasmplug/sdk/c/include/wasmplug/plugin.h \
           share/wasmplug/sdk/c/src/wasmplug_sdk.c share/wasmplug/examples/redact.wasm \
           share/wasmplug/examples/events.jsonl share/wasmplug/sdk/go/go.mod share/wasmplug/sdk/rust/src/lib.rs \
           share/wasmplug/sdk/assemblyscript/assembly/index.ts share/wasmplug/sdk/rust-torvyn/build.rs \
           share/wasmplug/wit/torvyn-streaming/types.wit; do
    [[ -e "$prefix/$f" ]] || fail "cmake --install did not install $f"
  done
  # Nothing Wasmtime-internal is public.
  if grep -rq 'wasmtime' "$prefix/include"; then fail "an installed header mentions wasmtime"; fi
  echo "installed into $prefix"
  ;;

find_package)
  src=$2 prefix=$3 work=$4 generator=$5
  rm -rf "$work"
  cmake -S "$src/examples/host" -B "$work" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON >"$work.configure.log" 2>&1 \
    || { cat "$work.configure.log" >&2; fail "configuring examples/host against $prefix"; }
  cmake --build "$work" >"$work.build.log" 2>&1 || { cat "$work.build.log" >&2; fail "building examples/host"; }
  out=$("$work/embed_host" "$prefix/share/wasmplug/examples/redact.wasm")
  check_redacted "$out"
  echo "find_package(wasmplug): embed_host printed $out"
  # Host functions through the installed wasmplug/host.hpp (no engine headers needed).
  out=$("$work/host_functions" "$prefix/share/wasmplug/examples/geo.wasm")
  grep -q '"country":"NZ"' <<<"$out" || fail "host_functions output lacks the host's answer: $out"
  echo "find_package(wasmplug): host_functions printed $out"
  ;;

pkg_config)
  src=$2 prefix=$3 work=$4 cxx=$5
  rm -rf "$work" && mkdir -p "$work"
  export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
  flags=$(pkg-config --cflags --libs wasmplug) || fail "pkg-config --cflags --libs wasmplug"
  # --static only adds what libcrypto.pc keeps private (-ldl, already listed).
  static_flags=$(pkg-config --static --cflags --libs wasmplug) || fail "pkg-config --static"
  for flag in $flags; do
    [[ " $static_flags " == *" $flag "* ]] || fail "pkg-config --static --libs lacks $flag: $static_flags"
  done
  [[ "$(pkg-config --modversion wasmplug)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no version in wasmplug.pc"
  # shellcheck disable=SC2086 # the flags are words
  "$cxx" -std=c++20 -O1 "$src/examples/host/embed.cpp" -o "$work/embed_host" $flags \
    || fail "$cxx -std=c++20 embed.cpp $flags"
  out=$("$work/embed_host" "$prefix/share/wasmplug/examples/redact.wasm")
  check_redacted "$out"
  echo "pkg-config: $flags"
  echo "embed_host printed $out"
  ;;

deb)
  build=$2 work=$3
  rm -rf "$work" && mkdir -p "$work"
  cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 \
    || { cat "$work/cpack.log" >&2; fail "cpack -G DEB"; }
  deb=$(ls "$work"/out/*.deb) || fail "cpack made no .deb"
  echo "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"
  dpkg-deb -f "$deb" Package Version Maintainer Depends Recommends
  [[ "$(dpkg-deb -f "$deb" Package)" == wasmplug ]] || fail "package name"
  depends=$(dpkg-deb -f "$deb" Depends)
  for lib in libc6 libstdc++6 libssl3 libre2 libsimdjson libcpp-httplib; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
  done
  root="$work/root"
  dpkg -x "$deb" "$root"
  for f in usr/bin/wasmplug usr/include/wasmplug/runtime.hpp usr/$libdir/libwasmplug.a \
           usr/$libdir/libwasmplug_wasmtime.a usr/$libdir/cmake/wasmplug/wasmplugConfig.cmake \
           usr/$libdir/pkgconfig/wasmplug.pc usr/share/wasmplug/sdk/c/WasmplugPlugin.cmake \
           usr/share/wasmplug/examples/redact.wasm; do
    [[ -e "$root/$f" ]] || fail ".deb lacks /$f"
  done
  cli="$root/usr/bin/wasmplug"
  # The CLI must not reach back into the build tree: no RPATH/RUNPATH, and run
  # from an empty directory with an empty environment.
  if readelf -d "$cli" | grep -Eq 'R(UN)?PATH'; then fail "$cli has an RPATH: $(readelf -d "$cli" | grep PATH)"; fi
  if ldd "$cli" | grep -q "$build"; then fail "$cli links a library from the build tree"; fi
  mkdir -p "$work/cwd" && cd "$work/cwd"
  env -i PATH=/usr/bin:/bin "$cli" inspect "$root/usr/share/wasmplug/examples/redact.wasm" >"$work/inspect.txt" \
    || { cat "$work/inspect.txt" >&2; fail "inspect from the .deb"; }
  grep -q 'transform' "$work/inspect.txt" || fail "inspect did not list the transform hook: $(cat "$work/inspect.txt")"
  env -i PATH=/usr/bin:/bin "$cli" run "$root/usr/share/wasmplug/examples/redact.wasm" \
      --input "$root/usr/share/wasmplug/examples/events.jsonl" --output out.jsonl 2>summary.txt \
    || { cat summary.txt >&2; fail "run from the .deb"; }
  lines_in=$(wc -l <"$root/usr/share/wasmplug/examples/events.jsonl")
  [[ "$(wc -l <out.jsonl)" == "$lines_in" ]] || fail "run from the .deb: $(cat summary.txt)"
  if grep -Eq '[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}' out.jsonl; then fail "card numbers left in the output"; fi
  # The relocated pkg-config file points into the unpacked root.
  PKG_CONFIG_PATH="$root/usr/$libdir/pkgconfig" pkg-config --cflags wasmplug | grep -q -- "-I$root/usr/$libdir/pkgconfig/.*include" \
    || fail "wasmplug.pc from the .deb does not point into $root"
  # So does the CMake package: a host configured against the unpacked root links from it.
  src=$(cd "$(dirname "$0")/../.." && pwd)
  cmake -S "$src/examples/host" -B "$work/host" -G Ninja -DCMAKE_PREFIX_PATH="$root/usr" \
        -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON >"$work/host.log" 2>&1 \
    || { cat "$work/host.log" >&2; fail "configuring examples/host against the .deb's root"; }
  grep -q "$root/usr/$libdir/libwasmplug.a" "$work/host/build.ninja" || fail "the .deb's CMake package does not point into $root"
  cat summary.txt
  head -n 3 "$work/inspect.txt"
  ;;

new)
  lang=$2 prefix=$3 work=$4 generator=$5
  cli="$prefix/bin/wasmplug"
  name="tagger-$lang"
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  "$cli" new "$name" --lang "$lang" || fail "wasmplug new $name --lang $lang"
  for f in CMakeLists.txt README.md sample.jsonl; do [[ -s "$name/$f" ]] || fail "scaffold lacks $f"; done
  if grep -rq '{{name}}' "$name"; then fail "unrendered placeholder left in $(grep -rl '{{name}}' "$name")"; fi
  cmake -S "$name" -B "$name/build" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON >configure.log 2>&1 \
    || { cat configure.log >&2; fail "configuring the $lang scaffold against $prefix"; }
  cmake --build "$name/build" >build.log 2>&1 || { cat build.log >&2; fail "building the $lang scaffold"; }
  wasm="$name/build/$name.wasm"
  "$cli" inspect "$wasm" >inspect.txt || { cat inspect.txt >&2; fail "wasmplug inspect $wasm"; }
  (cd "$name" && "$cli" run "build/$name.wasm" --input sample.jsonl) >out.jsonl 2>summary.txt \
    || { cat summary.txt >&2; fail "wasmplug run over sample.jsonl"; }
  cat >expected.jsonl <<EXPECTED
{"user":"ann","action":"login","tagged_by":"$name"}
{"user":"bob","action":"upload","bytes":1024,"tagged_by":"$name"}
{"tagged_by":"$name"}
EXPECTED
  diff -u expected.jsonl out.jsonl || fail "the $lang scaffold's output differs"
  # A record that is not an object fails with the plugin's own message.
  if echo '[1,2]' | "$cli" run "$wasm" --errors errors.jsonl >/dev/null 2>&1; then fail "a non-object record passed"; fi
  grep -q 'record is not a JSON object' errors.jsonl || fail "no guest error for a non-object: $(cat errors.jsonl)"
  cat summary.txt
  ;;

new_errors)
  cli=$(realpath "$2") work=$3
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  expect_error() {  # expect_error PATTERN ARGS...: exit 2 and PATTERN on stderr
    local pattern=$1; shift
    local status=0
    "$cli" new "$@" >out.txt 2>err.txt || status=$?
    [[ $status == 2 ]] || fail "wasmplug new $* exited $status, expected 2"
    grep -q -- "$pattern" err.txt || fail "wasmplug new $*: expected '$pattern' on stderr, got: $(cat err.txt)"
  }
  expect_error "must start with a letter" 1plugin --lang c
  expect_error "'/' is not allowed" a/b --lang c
  expect_error "'.' is not allowed" a.b --lang c
  expect_error "'\"' is not allowed" 'say"hi' --lang c
  expect_error "longer than 64" "$(printf 'a%.0s' {1..65})" --lang c
  expect_error "reserves" test --lang c
  expect_error "lang" ok --lang cobol
  mkdir full && echo keep >full/file
  expect_error "full is not empty; refusing to overwrite" ok --lang c --dir full
  [[ "$(cat full/file)" == keep ]] || fail "a file in a non-empty --dir was touched"
  echo x >plain
  expect_error "plain exists and is not a directory" ok --lang c --dir plain
  listing=$(ls -A | tr '\n' ' ')
  [[ "$listing" == "err.txt full out.txt plain " ]] || fail "a refused scaffold left files behind: $listing"
  # An empty existing directory is fine.
  mkdir empty && "$cli" new ok --lang c --dir empty >/dev/null || fail "scaffold into an empty --dir"
  [[ -s empty/CMakeLists.txt ]] || fail "scaffold into an empty --dir wrote nothing"
  echo "wasmplug new: every bad name and target refused"
  ;;
*)
  fail "unknown case $1"
  ;;
esac
