# wasmplug_add_plugin(NAME SOURCES src... [INCLUDE_DIRS dir...] [OUTPUT_DIR dir]
#                     [CFLAGS flag...])
#
# Builds NAME.wasm from C/C++ sources with clang for wasm32 (WASI reactor,
# no entry point) against the wasmplug C SDK. Creates a custom target NAME
# that other targets can depend on, and sets the target property
# WASM_FILE to the path of the produced module.
#
# Usable from any CMake project: include() this file. Needs clang-19 (or
# WASMPLUG_WASM_CC), lld and wasi-libc (Debian: clang-19 lld-19 wasi-libc
# libclang-rt-19-dev-wasm32).

set(WASMPLUG_SDK_C_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "")
find_program(WASMPLUG_WASM_CC NAMES clang-19 clang
  HINTS /usr/lib/llvm-19/bin
  DOC "clang able to target wasm32-wasi")

function(wasmplug_add_plugin name)
  cmake_parse_arguments(P "" "OUTPUT_DIR" "SOURCES;INCLUDE_DIRS;CFLAGS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "wasmplug_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT WASMPLUG_WASM_CC)
    message(FATAL_ERROR "wasmplug_add_plugin: no clang for wasm32 found (install clang-19 lld-19 wasi-libc)")
  endif()
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  set(out "${P_OUTPUT_DIR}/${name}.wasm")
  set(srcs "")
  foreach(s IN LISTS P_SOURCES)
    get_filename_component(abs "${s}" ABSOLUTE)
    list(APPEND srcs "${abs}")
  endforeach()
  set(incs "-I${WASMPLUG_SDK_C_DIR}/include")
  foreach(d IN LISTS P_INCLUDE_DIRS)
    get_filename_component(abs "${d}" ABSOLUTE)
    list(APPEND incs "-I${abs}")
  endforeach()
  add_custom_command(
    OUTPUT "${out}"
    COMMAND "${WASMPLUG_WASM_CC}" --target=wasm32-wasi -O2 -std=c11
            -mexec-model=reactor -Wall -Wextra -Werror
            ${incs} ${P_CFLAGS}
            -Wl,--strip-debug -Wl,-z,stack-size=65536
            -o "${out}" ${srcs} "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk.c"
    DEPENDS ${srcs} "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk.c"
            "${WASMPLUG_SDK_C_DIR}/include/wasmplug/plugin.h"
    COMMENT "wasm32: ${name}.wasm"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
