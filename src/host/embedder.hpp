// Embedder host functions (wasmplug/host.hpp): checked at registration,
// defined once in every profile linker, and admitted per plugin only when
// LoadOptions::host_functions grants them.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <wasmtime.h>

#include "host/host_func.hpp"
#include "wasmplug/host.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// Modules only the runtime defines functions in.
inline constexpr std::string_view kReservedHostModules[] = {"wasmplug", "wasi_snapshot_preview1", "wasi_unstable"};

/// Checks RuntimeConfig::host_functions: module and name non-empty, no
/// function registered twice, no reserved module, no clash with a built-in
/// host function of any profile (`builtins`). InvalidArgument (phase config)
/// naming the function otherwise.
[[nodiscard]] Result<void> check_embedder_functions(std::span<const HostFunction> functions,
                                                    std::span<const HostFuncDef> builtins);

/// Defines every function in `linker`. Each definition owns a copy of the
/// function, released when the linker and every instance-pre made from it
/// are gone (a Plugin may outlive its Runtime).
[[nodiscard]] Result<void> define_embedder_functions(wasmtime_linker_t* linker,
                                                     std::span<const HostFunction> functions);

/// What admission needs of each function (HostFuncDef::embedder set). The
/// views point into `functions`, which must outlive them.
[[nodiscard]] std::vector<HostFuncDef> embedder_defs(std::span<const HostFunction> functions);

/// The imports one plugin may use: its profile's host functions plus the
/// embedder functions granted to it; `not_granted` are the other embedder
/// functions (named as such when a module imports one).
struct ImportRules {
  std::vector<HostFuncDef> allowed;
  std::vector<HostFuncDef> not_granted;
};

/// The rules for `options`: InvalidArgument (phase load) when a grant names
/// no registered function or names one twice.
[[nodiscard]] Result<ImportRules> import_rules(std::span<const HostFuncDef> profile_imports,
                                               std::span<const HostFuncDef> embedder,
                                               const LoadOptions& options);

}  // namespace wasmplug::detail
