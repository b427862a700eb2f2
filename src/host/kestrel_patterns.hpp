// Regex and glob matching for Kestrel predicates, with RE2 (linear time:
// patterns come from untrusted rules). Each pattern is compiled once and kept
// in a bounded cache shared by all evaluations; lookups take a shared lock and
// allocate nothing.
#pragma once

#include <re2/re2.h>

#include <cstddef>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <optional>
#include <variant>

#include "wasmplug/error.hpp"

namespace wasmplug::kestrel {

class PatternCache {
 public:
  enum class Kind : std::uint8_t { Regex, Glob };
  static constexpr std::size_t kMaxPatternBytes = 1024;

  explicit PatternCache(std::size_t max_entries) : max_entries_(max_entries) {}

  /// Full-match of `text` against `pattern`; an error message (not a crash)
  /// for a pattern that does not compile.
  [[nodiscard]] std::variant<bool, std::string> match(Kind kind, std::string_view pattern, std::string_view text);
  [[nodiscard]] std::size_t size() const;

  /// Glob → RE2 syntax: * any run, ? one char, [...] / [!...] classes, all
  /// else literal. Empty optional on an unterminated class.
  [[nodiscard]] static std::optional<std::string> glob_to_regex(std::string_view glob);

 private:
  struct Compiled {
    std::unique_ptr<RE2> re;
    std::string error;  // set when the pattern does not compile
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::shared_ptr<const Compiled>, Hash, std::equal_to<>>;

  [[nodiscard]] std::shared_ptr<const Compiled> compile(Kind kind, std::string_view pattern) const;

  std::size_t max_entries_;
  mutable std::shared_mutex mutex_;
  Map regex_;
  Map glob_;
};

}  // namespace wasmplug::kestrel
