# Guest plugins in Rust (sdk/rust) and AssemblyScript (sdk/assemblyscript),
# built by custom commands with their own toolchains:
#
#   wasmplug_add_rust_plugin(NAME CRATE_DIR dir CRATE crate_name OUTPUT_DIR dir)
#     cargo build --release --target wasm32-unknown-unknown; the cargo target
#     dir is WASMPLUG_GUEST_CARGO_DIR (default ~/.cache/wasmplug/cargo-guest,
#     outside the clone), run in CRATE_DIR so that its .cargo/config.toml applies.
#   wasmplug_add_assemblyscript_plugin(NAME SOURCE file OUTPUT_DIR dir)
#     asc (the compiler version pinned by sdk/assemblyscript/package-lock.json,
#     installed by `npm ci` into WASMPLUG_NPM_DIR, default
#     ~/.cache/wasmplug/npm/assemblyscript-<version>) with the incremental
#     runtime and the SDK's abort; the SDK resolves as the package
#     "wasmplug-sdk" through a link in the build tree.
#
# WASMPLUG_GUEST_LANGS lists the languages to build (default: both). A listed
# language whose toolchain is missing stops the configure step with what to
# install; an empty list builds neither (and their tests are skipped, saying so).

set(WASMPLUG_GUEST_LANGS "rust;assemblyscript" CACHE STRING
  "Guest languages besides C whose example plugins are built and tested (rust, assemblyscript)")
set(WASMPLUG_GUEST_CARGO_DIR "$ENV{HOME}/.cache/wasmplug/cargo-guest" CACHE PATH
  "cargo target dir for guest plugins written in Rust (outside the clone)")

set(WASMPLUG_HAVE_RUST_GUESTS OFF)
set(WASMPLUG_HAVE_AS_GUESTS OFF)
foreach(lang IN LISTS WASMPLUG_GUEST_LANGS)
  if(NOT lang MATCHES "^(rust|assemblyscript)$")
    message(FATAL_ERROR "WASMPLUG_GUEST_LANGS: unknown language '${lang}' (known: rust, assemblyscript)")
  endif()
endforeach()

if("rust" IN_LIST WASMPLUG_GUEST_LANGS)
  find_program(WASMPLUG_GUEST_CARGO cargo HINTS "$ENV{HOME}/.cargo/bin")
  find_program(WASMPLUG_GUEST_RUSTC rustc HINTS "$ENV{HOME}/.cargo/bin")
  set(why "")
  if(NOT WASMPLUG_GUEST_CARGO OR NOT WASMPLUG_GUEST_RUSTC)
    set(why "cargo/rustc not found")
  else()
    execute_process(COMMAND "${WASMPLUG_GUEST_RUSTC}" --print target-libdir --target wasm32-unknown-unknown
      OUTPUT_VARIABLE libdir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    file(GLOB std_rlibs "${libdir}/libstd-*.rlib")
    if(NOT rc EQUAL 0 OR NOT std_rlibs)
      set(why "the Rust target wasm32-unknown-unknown is not installed (rustup target add wasm32-unknown-unknown)")
    endif()
  endif()
  if(why)
    message(FATAL_ERROR "Rust guest plugins: ${why}. Run scripts/setup.sh, or configure with "
      "-DWASMPLUG_GUEST_LANGS=assemblyscript (or an empty list) to build without Rust plugins.")
  endif()
  set(WASMPLUG_HAVE_RUST_GUESTS ON)
  message(STATUS "Rust guest plugins: ${WASMPLUG_GUEST_CARGO} (wasm32-unknown-unknown), target dir ${WASMPLUG_GUEST_CARGO_DIR}")
endif()

if("assemblyscript" IN_LIST WASMPLUG_GUEST_LANGS)
  find_program(WASMPLUG_NODE node)
  find_program(WASMPLUG_NPM npm)
  set(why "")
  if(NOT WASMPLUG_NODE OR NOT WASMPLUG_NPM)
    set(why "node and npm not found (Node.js >= 20)")
  else()
    execute_process(COMMAND "${WASMPLUG_NODE}" -p "process.versions.node.split('.')[0]"
      OUTPUT_VARIABLE node_major OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(node_major LESS 20)
      set(why "node ${node_major} is too old: the AssemblyScript compiler needs Node.js >= 20")
    endif()
  endif()
  if(why)
    message(FATAL_ERROR "AssemblyScript guest plugins: ${why}. Run scripts/setup.sh, or configure with "
      "-DWASMPLUG_GUEST_LANGS=rust (or an empty list) to build without AssemblyScript plugins.")
  endif()
  set(as_sdk "${PROJECT_SOURCE_DIR}/sdk/assemblyscript")
  file(READ "${as_sdk}/package.json" as_package)
  string(JSON as_version GET "${as_package}" devDependencies assemblyscript)
  set(WASMPLUG_NPM_DIR "$ENV{HOME}/.cache/wasmplug/npm/assemblyscript-${as_version}" CACHE PATH
    "Where npm ci installs the pinned AssemblyScript compiler (outside the clone)")
  set(WASMPLUG_ASC "${WASMPLUG_NPM_DIR}/node_modules/.bin/asc")
  set(as_stamp "${CMAKE_BINARY_DIR}/assemblyscript/npm-ci.stamp")
  add_custom_command(OUTPUT "${as_stamp}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${WASMPLUG_NPM_DIR}"
    COMMAND ${CMAKE_COMMAND} -E copy "${as_sdk}/package.json" "${as_sdk}/package-lock.json" "${WASMPLUG_NPM_DIR}/"
    COMMAND "${WASMPLUG_NPM}" ci --prefix "${WASMPLUG_NPM_DIR}" --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch "${as_stamp}"
    DEPENDS "${as_sdk}/package.json" "${as_sdk}/package-lock.json"
    COMMENT "npm ci: AssemblyScript ${as_version} into ${WASMPLUG_NPM_DIR}"
    VERBATIM)
  add_custom_target(assemblyscript_compiler DEPENDS "${as_stamp}")
  # asc --path resolves packages like node_modules: the SDK as "wasmplug-sdk".
  set(WASMPLUG_AS_PACKAGES "${CMAKE_BINARY_DIR}/assemblyscript/packages")
  file(MAKE_DIRECTORY "${WASMPLUG_AS_PACKAGES}")
  file(CREATE_LINK "${as_sdk}" "${WASMPLUG_AS_PACKAGES}/wasmplug-sdk" SYMBOLIC)
  set(WASMPLUG_HAVE_AS_GUESTS ON)
  message(STATUS "AssemblyScript guest plugins: asc ${as_version} via npm ci into ${WASMPLUG_NPM_DIR}")
endif()

function(wasmplug_add_rust_plugin name)
  cmake_parse_arguments(P "" "CRATE_DIR;CRATE;OUTPUT_DIR" "" ${ARGN})
  get_filename_component(dir "${P_CRATE_DIR}" ABSOLUTE)
  set(out "${P_OUTPUT_DIR}/${name}.wasm")
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${dir}/src/*.rs" "${PROJECT_SOURCE_DIR}/sdk/rust/src/*.rs"
    "${PROJECT_SOURCE_DIR}/tests/guests/rust/*.rs")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E env --unset=RUSTFLAGS --unset=CARGO_BUILD_TARGET
      "${WASMPLUG_GUEST_CARGO}" build --quiet --release --target wasm32-unknown-unknown
      --manifest-path "${dir}/Cargo.toml" --target-dir "${WASMPLUG_GUEST_CARGO_DIR}"
    COMMAND ${CMAKE_COMMAND} -E copy
      "${WASMPLUG_GUEST_CARGO_DIR}/wasm32-unknown-unknown/release/${P_CRATE}.wasm" "${out}"
    DEPENDS ${srcs} "${dir}/Cargo.toml" "${PROJECT_SOURCE_DIR}/sdk/rust/Cargo.toml"
    # The crate's own .cargo/config.toml (e.g. its stack size) applies.
    WORKING_DIRECTORY "${dir}"
    COMMENT "cargo: ${name}.wasm (Rust, wasm32-unknown-unknown)"
    VERBATIM)
  add_custom_target(${name} DEPENDS "${out}")
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()

function(wasmplug_add_assemblyscript_plugin name)
  cmake_parse_arguments(P "" "SOURCE;OUTPUT_DIR" "" ${ARGN})
  get_filename_component(src "${P_SOURCE}" ABSOLUTE)
  set(out "${P_OUTPUT_DIR}/${name}.wasm")
  add_custom_command(OUTPUT "${out}"
    COMMAND "${WASMPLUG_ASC}" "${src}" --path "${WASMPLUG_AS_PACKAGES}" -O3 --runtime incremental
      --use abort=~lib/wasmplug-sdk/assembly/index/abort -o "${out}"
    DEPENDS "${src}" "${PROJECT_SOURCE_DIR}/sdk/assemblyscript/assembly/index.ts" "${CMAKE_BINARY_DIR}/assemblyscript/npm-ci.stamp"
    COMMENT "asc: ${name}.wasm (AssemblyScript)"
    VERBATIM)
  add_custom_target(${name} DEPENDS "${out}")
  add_dependencies(${name} assemblyscript_compiler)
  set_target_properties(${name} PROPERTIES WASM_FILE "${out}")
endfunction()
