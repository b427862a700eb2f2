# wasmplug_add_wat(NAME SOURCE [OUTPUT_DIR dir]): NAME.wasm from a WAT file
# with wabt's wat2wasm; a custom target NAME with property WASM_FILE.
find_program(WAT2WASM wat2wasm REQUIRED)

function(wasmplug_add_wat name source)
  cmake_parse_arguments(W "" "OUTPUT_DIR" "" ${ARGN})
  if(NOT W_OUTPUT_DIR)
    set(W_OUTPUT_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  get_filename_component(src "${source}" ABSOLUTE)
  set(out "${W_OUTPUT_DIR}/${name}.wasm")
  add_custom_command(OUTPUT "${out}"
    COMMAND "${WAT2WASM}" --enable-all "${src}" -o "${out}"
    DEPENDS "${src}" COMMENT "wat2wasm ${name}.wasm" VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
