# Builds the Wasmtime C API from the Rust crate registry through rust/ (a tiny
# staticlib crate) and exposes it as the imported target `wasmtime::capi`.
#
# Cargo runs at configure time (the first run compiles Wasmtime: minutes on
# 2 cores) and again at build time (a no-op unless rust/ changed). The cargo
# target directory lives outside the source tree so fresh clones on the same
# machine reuse it.

set(WASMPLUG_CARGO_TARGET_DIR "$ENV{HOME}/.cache/wasmplug/cargo-target"
    CACHE PATH "cargo target directory for the Wasmtime build (outside the clone)")
find_program(CARGO_EXECUTABLE cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)

set(_wasmtime_include "${CMAKE_BINARY_DIR}/wasmtime/include")
set(_wasmtime_lib "${WASMPLUG_CARGO_TARGET_DIR}/release/libwasmplug_wasmtime.a")
set(WASMPLUG_WASMTIME_LIB "${_wasmtime_lib}")
# From `cargo rustc --release --lib -- --print native-static-libs`; the
# installed CMake package and wasmplug.pc name the same (cmake/Install.cmake).
set(WASMPLUG_WASMTIME_NATIVE_LIBS pthread dl m gcc_s util rt c)
set(_cargo_cmd
    ${CMAKE_COMMAND} -E env
      "CARGO_TARGET_DIR=${WASMPLUG_CARGO_TARGET_DIR}"
      "WASMPLUG_WASMTIME_INCLUDE_OUT=${_wasmtime_include}"
    ${CARGO_EXECUTABLE} build --release --locked
      --manifest-path "${PROJECT_SOURCE_DIR}/rust/Cargo.toml")

message(STATUS "Building the Wasmtime C API with cargo (first build takes minutes)")
execute_process(COMMAND ${_cargo_cmd} RESULT_VARIABLE _cargo_rc)
if(NOT _cargo_rc EQUAL 0)
  message(FATAL_ERROR "cargo build of rust/ (Wasmtime C API) failed with ${_cargo_rc}")
endif()

add_custom_target(wasmtime_cargo
  COMMAND ${_cargo_cmd}
  BYPRODUCTS "${_wasmtime_lib}"
  COMMENT "cargo build (Wasmtime C API)"
  USES_TERMINAL)

add_library(wasmtime::capi STATIC IMPORTED GLOBAL)
set_target_properties(wasmtime::capi PROPERTIES
  IMPORTED_LOCATION "${_wasmtime_lib}"
  INTERFACE_INCLUDE_DIRECTORIES "${_wasmtime_include}"
  INTERFACE_LINK_LIBRARIES "${WASMPLUG_WASMTIME_NATIVE_LIBS}")
add_dependencies(wasmtime::capi wasmtime_cargo)
