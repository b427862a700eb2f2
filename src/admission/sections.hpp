// A reader for the few top-level sections admission needs that the Wasmtime
// C API does not expose: declared tables and memories (also unexported ones)
// and the start function. Runs on modules Wasmtime has already validated, but
// checks every bound anyway and never reads past the buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wasmplug/error.hpp"

namespace wasmplug::detail {

struct LimitsDecl {
  std::uint64_t min = 0;
  std::optional<std::uint64_t> max;
  bool shared = false;
  bool is64 = false;
};

struct SectionSummary {
  std::vector<LimitsDecl> tables;    ///< defined in the module (not imported)
  std::vector<LimitsDecl> memories;  ///< defined in the module (not imported)
  bool has_start = false;
  std::vector<std::string> custom_sections;
};

/// True when `bytes` starts with the wasm magic and version 1.
[[nodiscard]] bool has_wasm_header(std::span<const std::uint8_t> bytes) noexcept;

/// Reads the section summary; an error message names the malformed part.
[[nodiscard]] Result<SectionSummary> read_sections(std::span<const std::uint8_t> bytes);

}  // namespace wasmplug::detail
