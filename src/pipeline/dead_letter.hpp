// The dead-letter file of a pipeline: one JSON line per failed record, with
// the record bounded (prefix, full length and SHA-256 when long), so that a
// flood of huge failing records cannot grow the file by whole records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/io.hpp"

namespace wasmplug::detail {

/// Lowercase hex SHA-256 of `data`.
[[nodiscard]] std::string sha256_hex(std::string_view data);

/// At most `max` bytes of `text`, not splitting a UTF-8 sequence.
[[nodiscard]] std::string_view utf8_prefix(std::string_view text, std::size_t max);

/// One failed record as a dead-letter line.
struct DeadRecord {
  std::uint64_t position = 0;  ///< the source's position (a line number)
  std::string_view stage;
  std::string_view kind;
  std::string_view phase;
  std::string_view message;
  std::string_view text;     ///< the record as the failing stage got it (a prefix when prefix_only)
  std::uint64_t bytes = 0;   ///< its full length
  bool prefix_only = false;  ///< only a prefix was ever held (too long to read whole)
};

/// Appends {"position","stage","kind","phase","message","record"} and, when
/// the record is not whole, "record_bytes", "truncated":true and (when the
/// whole record was at hand) "record_sha256" to `out`, without the newline.
void dead_letter_line(const DeadRecord& record, std::size_t max_record_bytes, std::string& out);

}  // namespace wasmplug::detail
