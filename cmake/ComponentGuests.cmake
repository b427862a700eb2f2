# Guest COMPONENTS in Rust (the torvyn profile's test guests, tests/guests/torvyn):
# a cargo workspace of cdylib crates for wasm32-wasip2, which rustc (>= 1.95,
# wasm-component-ld) links into components directly.
#
#   wasmplug_component_guest(STEM WORLD world [WASI])
#   wasmplug_component_guest(STEM IMPORTS iface... EXPORTS iface...)
#     Declares the workspace crate torvyn_guest_STEM and what its component
#     must import and export: a torvyn:streaming world (transform,
#     managed-transform, data-source, data-sink) or explicit interface names
#     (short names, e.g. types, become torvyn:streaming/types@0.1.0). WASI
#     marks the one guest that must import wasi: interfaces; every other guest
#     importing anything from wasi: fails the build.
#   wasmplug_add_component_guests(TARGET WORKSPACE dir OUTPUT_DIR dir CHECKER exe-target)
#     Builds all declared crates with ONE `cargo build --release --workspace`
#     (target dir WASMPLUG_GUEST_CARGO_DIR, outside the clone; crate versions
#     pinned by the workspace's Cargo.lock, --locked), checks each component's
#     imports and exports with CHECKER (component_check) and copies it to
#     OUTPUT_DIR/STEM.wasm. Also registers a CTest test torvyn_guest_STEM
#     that checks the copied file the same way.
#
# Built when "rust" is in WASMPLUG_GUEST_LANGS (cmake/GuestRustAs.cmake): then
# the target wasm32-wasip2 must be installed, or the configure step stops and
# says how to install it. WASMPLUG_HAVE_COMPONENT_GUESTS says whether they are built.

set(WASMPLUG_HAVE_COMPONENT_GUESTS OFF)
if(WASMPLUG_HAVE_RUST_GUESTS)
  execute_process(COMMAND "${WASMPLUG_GUEST_RUSTC}" --print target-libdir --target wasm32-wasip2
    OUTPUT_VARIABLE libdir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
  file(GLOB core_rlibs "${libdir}/libcore-*.rlib")
  if(NOT rc EQUAL 0 OR NOT core_rlibs)
    message(FATAL_ERROR "Rust guest components (torvyn profile): the Rust target wasm32-wasip2 is not installed "
      "(rustup target add wasm32-wasip2; rustc >= 1.95 for wasm-component-ld). Run scripts/setup.sh, or configure "
      "with -DWASMPLUG_GUEST_LANGS=assemblyscript (or an empty list) to build without Rust guests.")
  endif()
  set(WASMPLUG_HAVE_COMPONENT_GUESTS ON)
  message(STATUS "Rust guest components: wasm32-wasip2, target dir ${WASMPLUG_GUEST_CARGO_DIR}")
endif()

set(WASMPLUG_TORVYN_PACKAGE "torvyn:streaming" CACHE INTERNAL "")
set(WASMPLUG_TORVYN_VERSION "0.1.0" CACHE INTERNAL "")

function(wasmplug_component_guest stem)
  cmake_parse_arguments(G "WASI" "WORLD" "IMPORTS;EXPORTS" ${ARGN})
  if(G_WORLD STREQUAL "transform")
    set(imports types buffer-allocator)
    set(exports processor)
  elseif(G_WORLD STREQUAL "managed-transform")
    set(imports types buffer-allocator)
    set(exports processor lifecycle)
  elseif(G_WORLD STREQUAL "data-source")
    set(imports types buffer-allocator)
    set(exports source lifecycle)
  elseif(G_WORLD STREQUAL "data-sink")
    set(imports types)
    set(exports sink lifecycle)
  elseif(G_WORLD)
    message(FATAL_ERROR "wasmplug_component_guest(${stem}): unknown world '${G_WORLD}' "
      "(transform, managed-transform, data-source, data-sink)")
  else()
    set(imports ${G_IMPORTS})
    set(exports ${G_EXPORTS})
  endif()
  set(full_imports "")
  foreach(i IN LISTS imports)
    list(APPEND full_imports "${WASMPLUG_TORVYN_PACKAGE}/${i}@${WASMPLUG_TORVYN_VERSION}")
  endforeach()
  set(full_exports "")
  foreach(e IN LISTS exports)
    list(APPEND full_exports "${WASMPLUG_TORVYN_PACKAGE}/${e}@${WASMPLUG_TORVYN_VERSION}")
  endforeach()
  list(JOIN full_imports "," imports_arg)
  list(JOIN full_exports "," exports_arg)
  # An empty list is left out (the checker's default is "none").
  set(check_args "")
  if(imports_arg)
    list(APPEND check_args --imports "${imports_arg}")
  endif()
  if(exports_arg)
    list(APPEND check_args --exports "${exports_arg}")
  endif()
  if(G_WASI)
    list(APPEND check_args --wasi)
  endif()
  set_property(GLOBAL APPEND PROPERTY WASMPLUG_COMPONENT_GUESTS "${stem}")
  set_property(GLOBAL PROPERTY "WASMPLUG_COMPONENT_GUEST_CHECK_${stem}" "${check_args}")
endfunction()

function(wasmplug_add_component_guests target)
  cmake_parse_arguments(P "" "WORKSPACE;OUTPUT_DIR;CHECKER" "" ${ARGN})
  get_filename_component(ws "${P_WORKSPACE}" ABSOLUTE)
  get_property(stems GLOBAL PROPERTY WASMPLUG_COMPONENT_GUESTS)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${ws}/*.rs" "${ws}/*.toml" "${ws}/*.wit"
    "${PROJECT_SOURCE_DIR}/wit/torvyn-streaming/*.wit" "${PROJECT_SOURCE_DIR}/sdk/rust-torvyn/*.rs"
    "${PROJECT_SOURCE_DIR}/sdk/rust-torvyn/Cargo.toml")
  set(cargo_out "${WASMPLUG_GUEST_CARGO_DIR}/wasm32-wasip2/release")
  set(outputs "")
  set(check_and_copy "")
  foreach(stem IN LISTS stems)
    get_property(check_args GLOBAL PROPERTY "WASMPLUG_COMPONENT_GUEST_CHECK_${stem}")
    set(built "${cargo_out}/torvyn_guest_${stem}.wasm")
    set(out "${P_OUTPUT_DIR}/${stem}.wasm")
    list(APPEND outputs "${out}")
    # Checked before it is copied: a guest that fails the check never reaches
    # OUTPUT_DIR, so the next build runs again instead of trusting it.
    list(APPEND check_and_copy
      COMMAND $<TARGET_FILE:${P_CHECKER}> "${built}" ${check_args} --quiet
      COMMAND ${CMAKE_COMMAND} -E copy "${built}" "${out}")
    add_test(NAME torvyn_guest_${stem} COMMAND ${P_CHECKER} "${out}" ${check_args})
  endforeach()
  add_custom_command(OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${P_OUTPUT_DIR}"
    COMMAND ${CMAKE_COMMAND} -E env --unset=RUSTFLAGS --unset=CARGO_BUILD_TARGET
      "${WASMPLUG_GUEST_CARGO}" build --quiet --release --locked --workspace --target wasm32-wasip2
      --manifest-path "${ws}/Cargo.toml" --target-dir "${WASMPLUG_GUEST_CARGO_DIR}"
    ${check_and_copy}
    DEPENDS ${srcs} "${ws}/Cargo.lock" ${P_CHECKER}
    # The workspace's .cargo/config.toml (its stack size) applies.
    WORKING_DIRECTORY "${ws}"
    COMMENT "cargo: torvyn guest components (Rust, wasm32-wasip2): ${stems}"
    VERBATIM)
  add_custom_target(${target} DEPENDS ${outputs})
endfunction()
