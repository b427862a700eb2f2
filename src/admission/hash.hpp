// Content hash of a plugin: SHA-256 (OpenSSL) over everything that decides
// its behaviour.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// Lower-case hex SHA-256 over the policy version, ABI profile, limits,
/// isolation and pool options, config bytes and wasm bytes (fixed-width
/// fields, byte strings length-prefixed). The name is not part of it.
[[nodiscard]] std::string content_hash(std::span<const std::uint8_t> wasm, const LoadOptions& options);

}  // namespace wasmplug::detail
