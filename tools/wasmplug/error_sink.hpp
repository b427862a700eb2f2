// Failed records of `run`: JSON lines into a file, or one human line each on
// stderr. A record longer than a bound is kept as a prefix with its full
// length and SHA-256, so an errors file never grows by whole huge records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "io.hpp"
#include "pipeline/dead_letter.hpp"

namespace wasmplug::cli {

/// Default bound of the record text one errors-file line keeps (--max-error-record-bytes).
inline constexpr std::size_t kDefaultMaxErrorRecordBytes = 4096;

using detail::sha256_hex;

/// One failed record, as the errors file writes it.
struct FailedRecord {
  std::uint64_t line = 0;
  std::string_view kind;
  std::string_view phase;
  std::string_view message;
  std::string_view text;     ///< the record, or only its prefix when `prefix_only`
  std::uint64_t bytes = 0;   ///< the record's full length
  bool prefix_only = false;  ///< the reader kept only a prefix (over the input limit)
};

class ErrorSink {
 public:
  /// `human`: one line per failure for a person (stderr), else JSON lines.
  ErrorSink(OutFile& file, bool human, std::size_t max_record_bytes)
      : file_(file), human_(human), max_record_bytes_(max_record_bytes) {}

  /// JSON: {"line","kind","phase","message","record"} plus, when the record
  /// is not whole, "record_bytes" (full length), "truncated":true and — when
  /// the whole record was at hand — "record_sha256".
  void record(const FailedRecord& failed);

 private:
  OutFile& file_;
  bool human_;
  std::size_t max_record_bytes_;
  std::string text_;
};

}  // namespace wasmplug::cli
