// Regex and glob matching for Kestrel predicates. Patterns come from untrusted
// rules and texts from events, so every match is bounded: regexes run on RE2
// (a memory budget per pattern, a length cap and a work cap, since an RE2
// match cannot be interrupted) and globs on our own matcher, linear in the
// text, which checks the caller's deadline as it goes.
//
// Compiled patterns are kept in a cache shared by all evaluations, bounded in
// entries and in bytes. It only grows (until full) and never evicts, so a
// published entry lives as long as the cache: a hit reads a fixed table of
// atomic slots (no lock, no shared write, no allocation) and an insert stores
// one slot under a mutex, whatever the table's size.
#pragma once

#include <re2/re2.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/kestrel.hpp"

namespace wasmplug::kestrel {

/// A pattern cut for an error message: at most `keep` bytes (control bytes
/// shown as '?'), then "... (N bytes)" when it was longer.
[[nodiscard]] std::string shorten_pattern(std::string_view pattern, std::size_t keep = 64);

/// A glob compiled for a linear-time match. Syntax: `*` any run of bytes
/// (including '/' and newlines), `?` one byte, `[...]` / `[!...]` / `[^...]`
/// one byte in / not in the class (ranges a-z; a leading `]` is literal),
/// anything else literal.
class Glob {
 public:
  /// The glob, or an error message (unterminated class, non-ASCII class).
  [[nodiscard]] static std::variant<Glob, std::string> compile(std::string_view pattern);

  enum class Outcome : std::uint8_t { NoMatch, Match, Expired };
  /// Whole-text match. Calls `expired` every 256 KiB of text scanned and
  /// stops with Expired when it returns true.
  [[nodiscard]] Outcome match(std::string_view text, const std::function<bool()>& expired) const;
  /// Host memory this glob holds (for the cache's byte bound).
  [[nodiscard]] std::size_t bytes() const noexcept;

 private:
  using ByteSet = std::array<std::uint64_t, 4>;
  struct Segment {
    std::size_t begin;  // into atoms_
    std::size_t size;
  };
  [[nodiscard]] bool matches_at(const Segment& segment, std::string_view text, std::size_t at) const;
  [[nodiscard]] std::size_t find(const Segment& segment, std::string_view text, std::size_t from, std::size_t to,
                                 const std::function<bool()>& expired, bool& timed_out) const;

  std::vector<ByteSet> atoms_;      // one byte set per non-star position
  std::vector<Segment> segments_;   // the runs between stars, in order
  bool has_star_ = false;
};

class PatternCache {
 public:
  enum class Kind : std::uint8_t { Regex, Glob };
  /// Why a match did not answer. Timeout: `expired` returned true.
  struct Failure {
    ErrorKind kind;
    std::string message;  // names the (shortened) pattern and the limit
  };
  using Outcome = std::variant<bool, Failure>;

  /// Limits from `config` (max_cached_patterns, max_pattern_cache_bytes,
  /// max_pattern_bytes, regex_max_mem, max_regex_work); validate it first.
  explicit PatternCache(const EngineConfig& config = {});
  ~PatternCache();
  PatternCache(const PatternCache&) = delete;
  PatternCache& operator=(const PatternCache&) = delete;

  /// Full match of `text` against `pattern`. A pattern that does not compile
  /// is a GuestError; one over a per-pattern limit a LimitExceeded; a glob
  /// match that ran past `expired` a Timeout.
  [[nodiscard]] Outcome match(Kind kind, std::string_view pattern, std::string_view text,
                              const std::function<bool()>& expired = {});
  /// Patterns cached.
  [[nodiscard]] std::size_t size() const;
  /// Bytes charged to the cache (see EngineConfig::max_pattern_cache_bytes).
  [[nodiscard]] std::size_t bytes() const;

 private:
  struct Entry {
    Kind kind = Kind::Regex;
    std::string pattern;
    std::unique_ptr<RE2> regex;  // Kind::Regex, when it compiled
    std::unique_ptr<Glob> glob;  // Kind::Glob, when it compiled
    std::uint64_t program_size = 0;
    std::optional<Failure> failure;  // set when the pattern does not compile
    std::size_t charge = 0;          // bytes counted against the cache
  };
  [[nodiscard]] std::unique_ptr<Entry> compile(Kind kind, std::string_view pattern) const;
  [[nodiscard]] Outcome run(const Entry& entry, std::string_view text, const std::function<bool()>& expired) const;
  [[nodiscard]] const Entry* find(Kind kind, std::string_view pattern, std::size_t hash) const;

  EngineConfig config_;
  // Open addressing, linear probing, at least twice max_cached_patterns slots
  // so probes stay short; a slot is written once (null → entry), under
  // write_mutex_, and read with acquire loads.
  std::unique_ptr<std::atomic<const Entry*>[]> slots_;
  std::size_t slot_mask_ = 0;
  std::mutex write_mutex_;
  std::vector<std::unique_ptr<Entry>> owned_;  // under write_mutex_
  std::atomic<std::size_t> size_{0};
  std::atomic<std::size_t> bytes_{0};
};

}  // namespace wasmplug::kestrel
