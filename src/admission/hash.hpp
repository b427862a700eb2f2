// Content hash of a plugin: SHA-256 (OpenSSL) over everything that decides
// its behaviour.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// Lower-case hex SHA-256 of the module bytes alone (what compiling depends on).
[[nodiscard]] std::string module_hash(std::span<const std::uint8_t> wasm);

/// Lower-case hex SHA-256 over the policy version, ABI profile, limits,
/// isolation and pool options, config bytes, the module hash and the host
/// function grants, if any (fixed-width fields, byte strings length-prefixed).
/// The name is not part of it.
[[nodiscard]] std::string content_hash(const std::string& module_hash, const LoadOptions& options);

}  // namespace wasmplug::detail
