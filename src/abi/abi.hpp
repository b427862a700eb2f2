// ABI profiles: what each contract requires of a module (checked at
// admission) and how bytes go in and out of it (used by dispatch).
// One adapter file per profile; the call machinery (Instance) is shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "instance/instance.hpp"
#include "engine/types.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

/// Host function sets an ABI links (see src/host/).
enum class HostSet : std::uint8_t {
  Core,     ///< wasmplug.log, wasmplug.fail (native)
  Rustcdc,  ///< env.log, env.get_metric, env.record_metric
  Kestrel,  ///< env.event_get_*, string_*, regex_match, glob_match, alert_emit
};

struct ExportSpec {
  std::string_view name;
  FuncSig sig;
  bool required = false;
  std::optional<Hook> hook;  ///< set for hook entry points
};

struct AbiSpec {
  AbiProfile profile;
  /// A function export named `<marker_prefix><N>`, type () -> (), declares ABI
  /// version N. Empty: the profile has no marker (the seed contracts).
  std::string_view marker_prefix;
  std::uint32_t version;
  std::vector<HostSet> host_sets;
  /// The memory export every profile needs.
  std::string_view memory_export = "memory";
  std::vector<ExportSpec> exports;
  /// Added to the message for an import whose signature does not match.
  std::string_view import_mismatch_note = {};
};

[[nodiscard]] const AbiSpec& abi_spec(AbiProfile profile);

/// Runs the module's initialisers for a new instance (phase Init).
[[nodiscard]] Result<void> abi_initialize(Instance& instance);

// abi_invoke (one hook call on a ready instance): abi/invoke.hpp, inline.

/// Calls the WASI reactor initialiser `_initialize` (C/C++ static
/// constructors) when the module exports it (`func` non-null); phase Init.
[[nodiscard]] Result<void> run_reactor_initializer(Instance& instance, const wasmtime_func_t* func);

/// The wp_shutdown hook, when exported (phase Shutdown).
[[nodiscard]] Result<void> abi_shutdown(Instance& instance);

}  // namespace wasmplug::detail
