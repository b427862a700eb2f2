# `cmake --install` and `cpack`: the library as a package (docs/embedding.md).
#
#   <prefix>/include/wasmplug/            public headers (no Wasmtime headers)
#   <prefix>/<libdir>/libwasmplug.a       our library
#   <prefix>/<libdir>/libwasmplug_wasmtime.a
#                                         the Wasmtime C API from rust/, installed
#                                         beside ours (not merged: see below)
#   <prefix>/<libdir>/cmake/wasmplug/     find_package(wasmplug CONFIG)
#   <prefix>/<libdir>/pkgconfig/wasmplug.pc
#   <prefix>/bin/wasmplug                 the CLI
#   <prefix>/share/wasmplug/sdk/go/       the Go guest SDK (whole folder)
#   <prefix>/share/wasmplug/sdk/rust/     the Rust guest SDK crate (whole folder)
#   <prefix>/share/wasmplug/sdk/rust-torvyn/  the Rust SDK for torvyn components (crate
#                                         torvyn_guest; its build script reads ../../wit)
#   <prefix>/share/wasmplug/wit/torvyn-streaming/  the WIT package torvyn:streaming@0.1.0
#   <prefix>/share/wasmplug/sdk/assemblyscript/  the AssemblyScript guest SDK package
#   <prefix>/share/wasmplug/sdk/c/        the C/C++ guest SDK (whole folder) and
#                                         WasmplugPlugin.cmake
#   <prefix>/share/wasmplug/examples/     the example plugins (.wasm) and sample events
#
# Why Wasmtime stays a separate archive: merging a Rust staticlib into ours
# (ar MRI scripts) would rewrite ~80 MB on every rebuild of our library, and
# Rust archives carry members with the same name, which `ar` merges silently
# into one; two archives on the link line cost the consumer nothing, since the
# CMake package and wasmplug.pc both name them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WASMPLUG_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/wasmplug")
set(WASMPLUG_INSTALL_SDKDIR "${CMAKE_INSTALL_DATADIR}/wasmplug/sdk/c")

install(DIRECTORY include/wasmplug TYPE INCLUDE COMPONENT dev)
install(TARGETS wasmplug EXPORT wasmplugTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${WASMPLUG_WASMTIME_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev)
install(TARGETS wasmplug_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT cli)
# Whole folders: files added to sdk/c are installed without touching this list.
install(DIRECTORY sdk/c/ DESTINATION "${WASMPLUG_INSTALL_SDKDIR}" COMPONENT sdk)
# The Go SDK (module wasmplug.dev/wasmplug) beside it, for `wasmplug new --lang go`.
install(DIRECTORY sdk/go/ DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/sdk/go" COMPONENT sdk)
install(DIRECTORY sdk/rust/ DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/sdk/rust" COMPONENT sdk
        PATTERN "target" EXCLUDE PATTERN "Cargo.lock" EXCLUDE)
# The torvyn component SDK and the WIT it embeds, at the same relative place
# as in the source tree (sdk/rust-torvyn/build.rs reads ../../wit/torvyn-streaming).
install(DIRECTORY sdk/rust-torvyn/ DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/sdk/rust-torvyn" COMPONENT sdk
        PATTERN "target" EXCLUDE PATTERN "Cargo.lock" EXCLUDE)
install(DIRECTORY wit/torvyn-streaming/ DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/wit/torvyn-streaming"
        COMPONENT sdk)
install(DIRECTORY sdk/assemblyscript/ DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/sdk/assemblyscript" COMPONENT sdk
        PATTERN "node_modules" EXCLUDE)
install(DIRECTORY "${WASMPLUG_EXAMPLE_WASM_DIR}/" DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/examples"
        COMPONENT examples FILES_MATCHING PATTERN "*.wasm")
install(FILES examples/data/events.jsonl DESTINATION "${CMAKE_INSTALL_DATADIR}/wasmplug/examples"
        COMPONENT examples)

install(EXPORT wasmplugTargets NAMESPACE wasmplug:: DESTINATION "${WASMPLUG_INSTALL_CMAKEDIR}"
        COMPONENT dev)
configure_package_config_file(cmake/package/wasmplugConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/package/wasmplugConfig.cmake"
  INSTALL_DESTINATION "${WASMPLUG_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR WASMPLUG_INSTALL_SDKDIR)
# 0.x: a minor bump may break the API, so only the same minor version matches.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/package/wasmplugConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/package/wasmplugConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/package/wasmplugConfigVersion.cmake"
        DESTINATION "${WASMPLUG_INSTALL_CMAKEDIR}" COMPONENT dev)

# wasmplug.pc finds its prefix relative to itself, so a relocated tree (a
# --prefix install, `dpkg -x` into any root) works as installed.
file(RELATIVE_PATH WASMPLUG_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
string(REGEX REPLACE "/$" "" WASMPLUG_PC_TO_PREFIX "${WASMPLUG_PC_TO_PREFIX}")
list(TRANSFORM WASMPLUG_WASMTIME_NATIVE_LIBS PREPEND "-l" OUTPUT_VARIABLE WASMPLUG_PC_NATIVE_LIBS)
list(JOIN WASMPLUG_PC_NATIVE_LIBS " " WASMPLUG_PC_NATIVE_LIBS)
configure_file(cmake/package/wasmplug.pc.in "${CMAKE_CURRENT_BINARY_DIR}/package/wasmplug.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/package/wasmplug.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT dev)

# cpack -G DEB: one package with everything above (library, headers, CLI, SDK,
# examples). Depends come from dpkg-shlibdeps on the CLI (libc6, libstdc++6,
# libssl3, libre2-9, libsimdjson14, ...); building a host against the static
# library or building plugins needs the -dev packages and the wasm toolchain,
# which are Recommends.
set(CPACK_PACKAGE_NAME "wasmplug")
set(CPACK_PACKAGE_VENDOR "wasmplug")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "run untrusted WebAssembly plugins in your data path (library, CLI, guest SDK)")
set(CPACK_PACKAGE_DESCRIPTION
    "wasmplug is a C++20 library (static, with the Wasmtime runtime built in) and a CLI for running "
    "untrusted WebAssembly plugins with admission, a fresh sandbox per call and hard limits. The "
    "package holds the library, headers, CMake package and pkg-config file, the wasmplug CLI, the "
    "C/C++ guest SDK and example plugins.")
set(CPACK_PACKAGE_CONTACT "wasmplug maintainers <maintainers@wasmplug.invalid>")
set(WASMPLUG_DEB_MAINTAINER "${CPACK_PACKAGE_CONTACT}" CACHE STRING
    "Maintainer field of the .deb made by cpack")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${WASMPLUG_DEB_MAINTAINER}")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "libssl-dev, libre2-dev, libcpp-httplib-dev, libsimdjson-dev, pkg-config, clang-19, lld-19, wasi-libc, libclang-rt-19-dev-wasm32")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libc++-19-dev-wasm32, cmake (>= 3.25)")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES "${CMAKE_INSTALL_BINDIR}/wasmplug")
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/package/deb")
include(CPack)
