// Regex and glob matching for Kestrel predicates, with RE2 (linear time:
// patterns come from untrusted rules). Each pattern is compiled once and kept
// in a bounded cache shared by all evaluations. A hit takes no lock, writes no
// shared memory and allocates nothing (an immutable table read through
// GuardedPtr); a miss compiles, then publishes a copy of the table with the
// new pattern.
#pragma once

#include <re2/re2.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <optional>
#include <variant>

#include "dispatch/guarded_ptr.hpp"
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

  struct Tables {
    Map regex;
    Map glob;
  };
  [[nodiscard]] std::shared_ptr<const Compiled> compile(Kind kind, std::string_view pattern) const;
  [[nodiscard]] static std::variant<bool, std::string> run(const Compiled& compiled, std::string_view text);

  std::size_t max_entries_;
  detail::GuardedPtr<const Tables> tables_{std::make_shared<const Tables>()};
  std::mutex write_mutex_;
};

}  // namespace wasmplug::kestrel
