# wasmplug_add_go_plugin(NAME DIR dir [OUTPUT_DIR dir])
#
# Builds NAME.wasm from the Go main package in DIR (its own go.mod) with
#   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
# against the wasmplug Go SDK (sdk/go, module wasmplug.dev/wasmplug, reached
# through a `replace` in DIR/go.mod). Creates a custom target NAME with the
# property WASM_FILE. The module imports WASI: load it with
# LoadOptions::wasi / CLI --wasi.
#
# Go's caches stay outside the source tree (~/.cache/wasmplug/go-*), the
# build never reaches the network (GOPROXY=off, GOTOOLCHAIN=local), so a Go
# plugin may depend only on the standard library and local modules.
#
# Needs Go >= 1.24 (//go:wasmexport): WASMPLUG_GO, found on PATH or in
# /usr/local/go/bin. Without it WASMPLUG_HAVE_GO is OFF and the caller
# decides (the examples say so and skip their Go twins).

set(WASMPLUG_SDK_GO_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "")
find_program(WASMPLUG_GO NAMES go HINTS /usr/local/go/bin DOC "Go >= 1.24 for Go guest plugins (GOOS=wasip1)")
set(WASMPLUG_HAVE_GO OFF)
if(WASMPLUG_GO)
  execute_process(COMMAND "${WASMPLUG_GO}" env GOVERSION OUTPUT_VARIABLE _wasmplug_go_version
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _wasmplug_go_rc)
  string(REGEX MATCH "^go1\\.([0-9]+)" _wasmplug_go_minor "${_wasmplug_go_version}")
  if(_wasmplug_go_rc EQUAL 0 AND CMAKE_MATCH_1 GREATER_EQUAL 24)
    set(WASMPLUG_HAVE_GO ON)
  else()
    message(WARNING "wasmplug: ${WASMPLUG_GO} is '${_wasmplug_go_version}'; Go plugins need Go >= 1.24")
  endif()
endif()

function(wasmplug_add_go_plugin name)
  cmake_parse_arguments(G "" "DIR;OUTPUT_DIR" "" ${ARGN})
  if(NOT G_DIR)
    message(FATAL_ERROR "wasmplug_add_go_plugin(${name}): DIR is required")
  endif()
  if(NOT WASMPLUG_HAVE_GO)
    message(FATAL_ERROR "wasmplug_add_go_plugin(${name}): no Go >= 1.24 found (install it, or set WASMPLUG_GO)")
  endif()
  if(NOT G_OUTPUT_DIR)
    set(G_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  get_filename_component(dir "${G_DIR}" ABSOLUTE)
  set(out "${G_OUTPUT_DIR}/${name}.wasm")
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS "${dir}/*.go" "${dir}/go.mod" "${WASMPLUG_SDK_GO_DIR}/*.go"
       "${WASMPLUG_SDK_GO_DIR}/go.mod")
  set(cache "$ENV{HOME}/.cache/wasmplug")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND "${CMAKE_COMMAND}" -E env GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 "GOCACHE=${cache}/go-build"
            "GOMODCACHE=${cache}/go-mod" GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
            "${WASMPLUG_GO}" build -buildmode=c-shared -trimpath "-ldflags=-s -w" -o "${out}" .
    WORKING_DIRECTORY "${dir}"
    DEPENDS ${sources}
    COMMENT "go (wasip1): ${name}.wasm"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
