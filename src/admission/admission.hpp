// Admission: decide, before any guest code runs, whether a compiled module may
// be used under an ABI profile and limits — and say every reason it may not.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <wasmtime.h>

#include "abi/abi.hpp"
#include "admission/sections.hpp"
#include "host/host_func.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// Policy version: part of every content hash. Bump it whenever admission
/// rules change so that re-registering old content is checked again.
inline constexpr std::uint32_t kPolicyVersion = 3;

struct Admission {
  AdmissionReport report;
  std::size_t memory_export = 0;
  std::vector<std::optional<std::size_t>> export_index;  ///< aligned with AbiSpec::exports
};

/// The rules that need only the declared memories and tables. Also used when
/// the engine refuses to compile a module, to name the reason in policy terms.
void check_memory_and_tables(const SectionSummary& sections, const Limits& limits, AdmissionReport& report);

/// What a module may import: the profile's host functions, and the WASI
/// capability set when the plugin was loaded with LoadOptions::wasi.
struct ImportPolicy {
  std::span<const HostFuncDef> profile;
  std::span<const HostFuncDef> wasi;
  bool wasi_enabled = false;
  /// Embedder host functions this plugin was not granted: an import of one is
  /// named as a missing capability rather than as unknown to the profile.
  std::span<const HostFuncDef> not_granted;
};

/// Checks imports (allow-list by module, name and exact signature), the ABI
/// marker, required and optional exports (exact signatures), at least one
/// hook, memory (one, not shared, minimum within the limit) and tables (at
/// most one, minimum within the limit), and that every hook in `required`
/// is exported. Every failed rule becomes one line of report.problems.
[[nodiscard]] Admission admit(const wasmtime_module_t* module, const SectionSummary& sections,
                              const AbiSpec& spec, const ImportPolicy& imports, const Limits& limits,
                              std::span<const Hook> required = {});

/// The first hook of `required` that `spec` has no export for, as a message
/// for InvalidArgument ("LoadOptions::required_hooks names ..."); empty if none.
[[nodiscard]] std::string unsupported_required_hook(const AbiSpec& spec, std::span<const Hook> required);

}  // namespace wasmplug::detail
