# wasmplug_add_plugin as a plugin author meets it (cmake -P, from CTest):
# builds tests/integration/sdk_project in a scratch copy.
#   -DMODE=rebuild|rejected|flags -DSDK_DIR=sdk/c -DCLI=wasmplug -DGENERATOR=Ninja
#   -DPROJECT=tests/integration/sdk_project -DWORK=scratch dir
#
# rebuild:  editing a header the plugin includes rebuilds NAME.wasm (depfile);
#           an unchanged tree does not; warnings are not errors by default;
#           MinSizeRel builds with -Oz.
# rejected: a plugin calling snprintf fails its build at admission with the
#           reason, and leaves no NAME.wasm behind.
# flags:    Debug builds with -O0 -g; WASMPLUG_PLUGIN_WERROR=ON turns the
#           plugin's warning into a failed build.
# cxx_debug: a C++ plugin (std::string, std::vector, std::to_string) built
#           unoptimised is admitted.

unset(ENV{CMAKE_GENERATOR})
foreach(var MODE SDK_DIR CLI GENERATOR PROJECT WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "sdk_build_test: -D${var}= is required")
  endif()
endforeach()

function(fail)
  string(JOIN "" text ${ARGN})
  message(FATAL_ERROR "FAIL: ${text}")
endfunction()

# configure(plugin build_type extra_args...)
function(configure plugin build_type)
  file(REMOVE_RECURSE "${WORK}")
  file(COPY "${PROJECT}/" DESTINATION "${WORK}/src")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${WORK}/src" -B "${WORK}/build" -G "${GENERATOR}"
            "-DWASMPLUG_SDK_DIR=${SDK_DIR}" "-DWASMPLUG_CLI=${CLI}" "-DPLUGIN=${plugin}"
            "-DCMAKE_BUILD_TYPE=${build_type}" ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    fail("configure failed:\n${out}${err}")
  endif()
endfunction()

# build(rc_var output_var): a verbose build, so the compiler lines are visible.
function(build rc_var out_var)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${WORK}/build" --verbose
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect_in text needle what)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    fail("${what}: expected '${needle}' in:\n${text}")
  endif()
endfunction()

function(expect_not_in text needle what)
  string(FIND "${text}" "${needle}" at)
  if(NOT at EQUAL -1)
    fail("${what}: did not expect '${needle}' in:\n${text}")
  endif()
endfunction()

set(module "${WORK}/build/${MODE}.wasm")

if(MODE STREQUAL "rebuild")
  set(module "${WORK}/build/greet.wasm")
  configure(greet MinSizeRel)
  build(rc out)
  if(NOT rc EQUAL 0)
    fail("first build failed:\n${out}")
  endif()
  expect_in("${out}" " -Oz " "MinSizeRel optimises for size")
  expect_in("${out}" "unused_on_purpose" "the warning is shown")
  expect_not_in("${out}" "-Werror" "warnings are not errors by default")
  file(SHA256 "${module}" first)

  build(rc out)
  file(SHA256 "${module}" unchanged)
  expect_not_in("${out}" "--target=wasm32-wasi" "nothing changed, nothing recompiled or relinked")
  if(NOT first STREQUAL unchanged)
    fail("an unchanged tree rebuilt a different greet.wasm")
  endif()

  file(WRITE "${WORK}/src/greet.h" "#define GREETING \"rebuilt-after-header-edit \"\n")
  build(rc out)
  if(NOT rc EQUAL 0)
    fail("build after the header edit failed:\n${out}")
  endif()
  file(SHA256 "${module}" second)
  if(first STREQUAL second)
    fail("editing greet.h did not rebuild greet.wasm (no header dependency):\n${out}")
  endif()
  file(STRINGS "${module}" greeting REGEX "rebuilt-after-header-edit")
  if(NOT greeting)
    fail("greet.wasm was rebuilt but does not contain the new GREETING")
  endif()
elseif(MODE STREQUAL "rejected")
  set(module "${WORK}/build/snprintf.wasm")
  configure(snprintf "")
  build(rc out)
  if(rc EQUAL 0)
    fail("a plugin importing WASI built successfully:\n${out}")
  endif()
  expect_in("${out}" "snprintf.wasm would be rejected at load" "the build names the module")
  expect_in("${out}" "wasi_snapshot_preview1" "the build gives the admission reason")
  if(EXISTS "${module}")
    fail("a rejected plugin left ${module} behind")
  endif()
  message("${out}")
elseif(MODE STREQUAL "flags")
  configure(greet Debug -DWASMPLUG_PLUGIN_WERROR=ON)
  build(rc out)
  expect_in("${out}" " -O0 " "Debug does not optimise")
  expect_in("${out}" " -g " "Debug has debug info")
  expect_in("${out}" "-Werror" "WASMPLUG_PLUGIN_WERROR=ON")
  if(rc EQUAL 0)
    fail("with WASMPLUG_PLUGIN_WERROR=ON the unused variable did not fail the build:\n${out}")
  endif()
  expect_in("${out}" "unused_on_purpose" "the failing warning is shown")
elseif(MODE STREQUAL "cxx_debug")
  configure(words Debug)
  build(rc out)
  expect_in("${out}" " -O0 " "Debug does not optimise")
  if(NOT rc EQUAL 0)
    fail("the Debug C++ plugin did not build or was not admitted:\n${out}")
  endif()
  if(NOT EXISTS "${WORK}/build/words.wasm")
    fail("no words.wasm")
  endif()
else()
  fail("unknown MODE ${MODE}")
endif()
