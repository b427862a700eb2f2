// Content hash of a plugin: SHA-256 (OpenSSL) over everything that decides
// its behaviour.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

/// Lower-case hex SHA-256 over the policy version, ABI profile, limits,
/// config bytes and wasm bytes (each length-prefixed, fixed-width fields).
[[nodiscard]] std::string content_hash(std::span<const std::uint8_t> wasm, const Limits& limits,
                                       AbiProfile abi, std::span<const std::uint8_t> config);

}  // namespace wasmplug::detail
