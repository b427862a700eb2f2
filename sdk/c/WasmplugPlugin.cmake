# wasmplug_add_plugin(NAME SOURCES src... [INCLUDE_DIRS dir...] [OUTPUT_DIR dir]
#                     [CFLAGS flag...] [RAW] [WERROR] [NO_ADMISSION]
#                     [INSPECT_ARGS arg...])
#
# Builds NAME.wasm from C or C++ sources with clang for wasm32 (WASI reactor,
# no entry point) against the wasmplug C SDK (<wasmplug/plugin.h>,
# <wasmplug/json.h>). A .cpp/.cc/.cxx source makes it a C++ plugin: clang++
# -std=c++20 without exceptions or RTTI, with the SDK's C++ support
# (<wasmplug/guest.hpp>); .c sources are C11. Creates a custom target NAME
# and sets its property WASM_FILE to the path of the module.
#
# Each source is compiled on its own with a depfile, so editing any header it
# includes rebuilds the plugin (Ninja and Makefile generators).
#
# Optimisation follows the build type (CMAKE_BUILD_TYPE, or the configuration
# of a multi-config generator): Debug -O0 -g (debug info kept in the module),
# Release -O3, RelWithDebInfo -O2 -g, MinSizeRel -Oz, none or any other -O2;
# all but Debug define NDEBUG and strip debug info from the module.
# Warnings: -Wall -Wextra; they are errors with WERROR or when the variable
# WASMPLUG_PLUGIN_WERROR is ON. CFLAGS are added last (they can override all
# of this).
#
# Admission: after linking, the module is checked with `wasmplug inspect`
# (INSPECT_ARGS are passed to it, e.g. an ABI profile); a module the runtime
# would reject fails the build with the reason and no NAME.wasm is left
# behind. The CLI is WASMPLUG_CLI (a target name or a path) if set, else the
# target wasmplug::cli (installed package) or wasmplug_cli (wasmplug's own
# tree), else `wasmplug` on PATH. WASMPLUG_ADMIT_PLUGINS=OFF or NO_ADMISSION
# skips the check. RAW plugins are not checked unless INSPECT_ARGS is given.
#
# RAW: do not link the SDK (for modules written by hand to another contract,
# e.g. the cc-lb or rustcdc profiles).
#
# Usable from any CMake project: include() this file (or find_package(wasmplug)).
# Needs clang-19 (or WASMPLUG_WASM_CC), lld and wasi-libc (Debian: clang-19
# lld-19 wasi-libc libclang-rt-19-dev-wasm32; C++ also libc++-19-dev-wasm32).

# Paths depend only on where this file is, so it works from a checkout and
# from an installed package alike.
set(WASMPLUG_SDK_C_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "")
# DEPFILE paths are relative to the binary dir (recorded with the function).
if(POLICY CMP0116)
  cmake_policy(SET CMP0116 NEW)
endif()

find_program(WASMPLUG_WASM_CC NAMES clang-19 clang
  HINTS /usr/lib/llvm-19/bin
  DOC "clang able to target wasm32-wasi")
find_program(WASMPLUG_WASM_CXX NAMES clang++-19 clang++
  HINTS /usr/lib/llvm-19/bin
  DOC "clang++ able to target wasm32-wasi (C++ plugins; needs libc++-19-dev-wasm32)")
# A package config may set WASMPLUG_CLI before including this file; a cache
# entry must not replace that (CMP0126 OLD would).
if(NOT DEFINED WASMPLUG_CLI)
  set(WASMPLUG_CLI "" CACHE STRING
    "wasmplug CLI that admits each plugin after linking (a target name or a path); empty: wasmplug::cli, wasmplug_cli or wasmplug on PATH")
endif()
option(WASMPLUG_ADMIT_PLUGINS "Run `wasmplug inspect` on every plugin built by wasmplug_add_plugin" ON)
option(WASMPLUG_PLUGIN_WERROR "Warnings are errors in plugins built by wasmplug_add_plugin" OFF)

# Sets out_cmd to the CLI (path or generator expression) and out_dep to what
# the admission step depends on; both empty if no CLI is available.
function(_wasmplug_find_cli out_cmd out_dep)
  set(cmd "")
  set(dep "")
  set(candidate "${WASMPLUG_CLI}")
  if(NOT candidate)
    if(TARGET wasmplug::cli)
      set(candidate wasmplug::cli)
    elseif(TARGET wasmplug_cli)
      set(candidate wasmplug_cli)
    endif()
  endif()
  if(candidate AND TARGET "${candidate}")
    set(cmd "$<TARGET_FILE:${candidate}>")
    set(dep "${candidate}")
  elseif(candidate AND EXISTS "${candidate}")
    set(cmd "${candidate}")
    set(dep "${candidate}")
  else()
    if(candidate)
      message(WARNING "wasmplug_add_plugin: WASMPLUG_CLI=${candidate} is neither a target nor an existing file; "
                      "looking for wasmplug::cli or wasmplug on PATH instead")
      if(TARGET wasmplug::cli)
        set(${out_cmd} "$<TARGET_FILE:wasmplug::cli>" PARENT_SCOPE)
        set(${out_dep} wasmplug::cli PARENT_SCOPE)
        return()
      endif()
    endif()
    find_program(WASMPLUG_CLI_PROGRAM wasmplug DOC "the wasmplug CLI (plugin admission at build time)")
    if(WASMPLUG_CLI_PROGRAM)
      set(cmd "${WASMPLUG_CLI_PROGRAM}")
      set(dep "${WASMPLUG_CLI_PROGRAM}")
    endif()
  endif()
  set(${out_cmd} "${cmd}" PARENT_SCOPE)
  set(${out_dep} "${dep}" PARENT_SCOPE)
endfunction()

function(wasmplug_add_plugin name)
  cmake_parse_arguments(P "RAW;WERROR;NO_ADMISSION" "OUTPUT_DIR" "SOURCES;INCLUDE_DIRS;CFLAGS;INSPECT_ARGS" ${ARGN})
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "wasmplug_add_plugin(${name}): unknown arguments: ${P_UNPARSED_ARGUMENTS}")
  endif()
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
  set(work "${CMAKE_CURRENT_BINARY_DIR}/wasmplug_${name}.dir")
  file(MAKE_DIRECTORY "${work}")

  set(srcs "")
  foreach(s IN LISTS P_SOURCES)
    get_filename_component(abs "${s}" ABSOLUTE)
    list(APPEND srcs "${abs}")
  endforeach()
  if(NOT P_RAW)
    list(APPEND srcs "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk.c" "${WASMPLUG_SDK_C_DIR}/src/wasmplug_buf.c"
                     "${WASMPLUG_SDK_C_DIR}/src/wasmplug_json.c")
  endif()
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
    if(NOT P_RAW)
      list(APPEND srcs "${WASMPLUG_SDK_C_DIR}/src/wasmplug_sdk_cpp.cpp")
    endif()
  endif()

  set(incs "-I${WASMPLUG_SDK_C_DIR}/include")
  foreach(d IN LISTS P_INCLUDE_DIRS)
    get_filename_component(abs "${d}" ABSOLUTE)
    list(APPEND incs "-I${abs}")
  endforeach()
  # One generator expression per flag: a list inside one would be split
  # before it is evaluated.
  set(opt
    "$<$<CONFIG:Debug>:-O0>" "$<$<CONFIG:Debug>:-g>"
    "$<$<CONFIG:Release>:-O3>"
    "$<$<CONFIG:RelWithDebInfo>:-O2>" "$<$<CONFIG:RelWithDebInfo>:-g>"
    "$<$<CONFIG:MinSizeRel>:-Oz>"
    "$<$<NOT:$<CONFIG:Debug,Release,RelWithDebInfo,MinSizeRel>>:-O2>"
    "$<$<NOT:$<CONFIG:Debug>>:-DNDEBUG>")
  set(warn -Wall -Wextra)
  if(P_WERROR OR WASMPLUG_PLUGIN_WERROR)
    list(APPEND warn -Werror)
  endif()

  set(objs "")
  set(index 0)
  foreach(s IN LISTS srcs)
    get_filename_component(stem "${s}" NAME)
    set(obj "${work}/${index}_${stem}.o")
    math(EXPR index "${index} + 1")
    if(s MATCHES "\\.(cpp|cc|cxx)$")
      set(compiler "${WASMPLUG_WASM_CXX}" -std=c++20 -fno-exceptions -fno-rtti)
      set(lang "C++")
    else()
      set(compiler "${WASMPLUG_WASM_CC}" -std=c11)
      set(lang "C")
    endif()
    add_custom_command(
      OUTPUT "${obj}"
      COMMAND ${compiler} --target=wasm32-wasi ${opt} ${warn} ${incs} ${P_CFLAGS}
              -MD -MF "${obj}.d" -MT "${obj}" -c "${s}" -o "${obj}"
      DEPENDS "${s}"
      DEPFILE "${obj}.d"
      COMMENT "wasm32 (${lang}): ${name}: ${stem}"
      COMMAND_EXPAND_LISTS
      VERBATIM)
    list(APPEND objs "${obj}")
  endforeach()

  if(is_cxx)
    set(linker "${WASMPLUG_WASM_CXX}")
  else()
    set(linker "${WASMPLUG_WASM_CC}")
  endif()
  set(linked "${work}/${name}.unadmitted.wasm")
  add_custom_command(
    OUTPUT "${linked}"
    COMMAND "${linker}" --target=wasm32-wasi -mexec-model=reactor
            "$<$<NOT:$<CONFIG:Debug>>:-Wl,--strip-debug>" -Wl,-z,stack-size=65536
            -o "${linked}" ${objs}
    DEPENDS ${objs}
    COMMENT "wasm32: link ${name}.wasm"
    COMMAND_EXPAND_LISTS
    VERBATIM)

  set(admit ON)
  if(NOT WASMPLUG_ADMIT_PLUGINS OR P_NO_ADMISSION OR (P_RAW AND NOT P_INSPECT_ARGS))
    set(admit OFF)
  endif()
  set(cli "")
  set(cli_dep "")
  if(admit)
    _wasmplug_find_cli(cli cli_dep)
    if(NOT cli)
      get_property(warned GLOBAL PROPERTY WASMPLUG_WARNED_NO_CLI)
      if(NOT warned)
        message(WARNING "wasmplug_add_plugin: no wasmplug CLI found (set WASMPLUG_CLI to a target or path): "
                        "plugins are built without the admission check")
        set_property(GLOBAL PROPERTY WASMPLUG_WARNED_NO_CLI ON)
      endif()
    endif()
  endif()
  if(cli)
    set(step "wasmplug: admit ${name}.wasm")
  else()
    set(step "wasmplug: ${name}.wasm (no admission check)")
  endif()
  string(REPLACE ";" "\\;" inspect_args "${P_INSPECT_ARGS}")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND "${CMAKE_COMMAND}" "-DWASMPLUG_CLI=${cli}" "-DINSPECT_ARGS=${inspect_args}"
            "-DMODULE=${linked}" "-DOUTPUT=${out}" -P "${WASMPLUG_SDK_C_DIR}/WasmplugAdmit.cmake"
    DEPENDS "${linked}" "${WASMPLUG_SDK_C_DIR}/WasmplugAdmit.cmake" ${cli_dep}
    COMMENT "${step}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
