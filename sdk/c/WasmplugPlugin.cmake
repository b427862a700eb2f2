# wasmplug_add_plugin(NAME SOURCES src... [INCLUDE_DIRS dir...] [OUTPUT_DIR dir]
#                     [CFLAGS flag...] [RAW])
#
# RAW: do not link the SDK (for modules written by hand to another contract,
# e.g. the cc-lb or rustcdc profiles); C sources only.
#
# Builds NAME.wasm from C or C++ sources with clang for wasm32 (WASI reactor,
# no entry point) against the wasmplug C SDK. Any .cpp/.cc/.cxx source makes
# it a C++ plugin: clang++ -std=c++20 without exceptions or RTTI, with the
# SDK's C++ support (include <wasmplug/guest.hpp>). Creates a custom target NAME
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
find_program(WASMPLUG_WASM_CXX NAMES clang++-19 clang++
  HINTS /usr/lib/llvm-19/bin
  DOC "clang++ able to target wasm32-wasi (C++ plugins; needs libc++-19-dev-wasm32)")

function(wasmplug_add_plugin name)
  cmake_parse_arguments(P "RAW" "OUTPUT_DIR" "SOURCES;INCLUDE_DIRS;CFLAGS" ${ARGN})
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
  set(sdk "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk.c")
  set(common_flags --target=wasm32-wasi -O2 -Wall -Wextra -Werror ${incs} ${P_CFLAGS})
  set(link_flags -mexec-model=reactor -Wl,--strip-debug -Wl,-z,stack-size=65536)
  set(is_cxx OFF)
  foreach(s IN LISTS srcs)
    if(s MATCHES "\\.(cpp|cc|cxx)$")
      set(is_cxx ON)
    endif()
  endforeach()
  if(is_cxx)
    if(NOT WASMPLUG_WASM_CXX)
      message(FATAL_ERROR "wasmplug_add_plugin(${name}): C++ sources need clang++-19 and libc++-19-dev-wasm32")
    endif()
    set(sdk_obj "${CMAKE_CURRENT_BINARY_DIR}/${name}_wasmplug_sdk.o")
    add_custom_command(
      OUTPUT "${out}"
      COMMAND "${WASMPLUG_WASM_CC}" ${common_flags} -std=c11 -c "${sdk}" -o "${sdk_obj}"
      COMMAND "${WASMPLUG_WASM_CXX}" ${common_flags} -std=c++20 -fno-exceptions -fno-rtti ${link_flags}
              -o "${out}" ${srcs} "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk_cpp.cpp" "${sdk_obj}"
      DEPENDS ${srcs} "${sdk}" "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk_cpp.cpp"
              "${WASMPLUG_SDK_C_DIR}/include/wasmplug/plugin.h" "${WASMPLUG_SDK_C_DIR}/include/wasmplug/guest.hpp"
      COMMENT "wasm32 (C++): ${name}.wasm"
      VERBATIM)
  elseif(P_RAW)
    add_custom_command(
      OUTPUT "${out}"
      COMMAND "${WASMPLUG_WASM_CC}" ${common_flags} -std=c11 ${link_flags} -o "${out}" ${srcs}
      DEPENDS ${srcs}
      COMMENT "wasm32 (raw): ${name}.wasm"
      VERBATIM)
  else()
    add_custom_command(
      OUTPUT "${out}"
      COMMAND "${WASMPLUG_WASM_CC}" ${common_flags} -std=c11 ${link_flags} -o "${out}" ${srcs} "${sdk}"
      DEPENDS ${srcs} "${sdk}" "${WASMPLUG_SDK_C_DIR}/include/wasmplug/plugin.h"
      COMMENT "wasm32: ${name}.wasm"
      VERBATIM)
  endif()
  add_custom_target(${name} ALL DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
