# Build step of wasmplug_add_plugin (cmake -P): admits the linked module with
# `wasmplug inspect` and only then puts it at its output path.
#   -DMODULE=linked.wasm -DOUTPUT=NAME.wasm [-DWASMPLUG_CLI=cli] [-DINSPECT_ARGS=a;b]
# Without WASMPLUG_CLI the module is copied unchecked.

# A module that fails admission must not leave an older, good-looking NAME.wasm.
file(REMOVE "${OUTPUT}")
get_filename_component(name "${OUTPUT}" NAME)
if(WASMPLUG_CLI)
  execute_process(
    COMMAND "${WASMPLUG_CLI}" inspect ${INSPECT_ARGS} "${MODULE}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE report
    ERROR_VARIABLE errors)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "wasmplug: ${name} would be rejected at load "
                        "(`wasmplug inspect` exit ${rc}):\n${report}${errors}"
                        "See docs/writing-plugins.md (what a plugin may import).")
  endif()
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy "${MODULE}" "${OUTPUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "wasmplug: cannot copy ${MODULE} to ${OUTPUT}")
endif()
