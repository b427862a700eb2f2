#include "host/kestrel_patterns.hpp"

#include <mutex>

namespace wasmplug::kestrel {

std::optional<std::string> PatternCache::glob_to_regex(std::string_view glob) {
  std::string out = "(?s)";  // `*` and `?` match newlines too, like fnmatch
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      out += ".*";
    } else if (c == '?') {
      out += '.';
    } else if (c == '[') {
      std::size_t j = i + 1;
      std::string cls = "[";
      if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) {
        cls += '^';
        ++j;
      }
      if (j < glob.size() && glob[j] == ']') {  // a leading ] is literal
        cls += "\\]";
        ++j;
      }
      for (; j < glob.size() && glob[j] != ']'; ++j) {
        if (glob[j] == '\\' || glob[j] == '[') {
          cls += '\\';
        }
        cls += glob[j];
      }
      if (j >= glob.size()) {
        return std::nullopt;
      }
      out += cls + "]";
      i = j;
    } else {
      out += RE2::QuoteMeta(std::string_view(&glob[i], 1));
    }
  }
  return out;
}

std::shared_ptr<const PatternCache::Compiled> PatternCache::compile(Kind kind, std::string_view pattern) const {
  auto compiled = std::make_shared<Compiled>();
  if (pattern.size() > kMaxPatternBytes) {
    compiled->error = "pattern of " + std::to_string(pattern.size()) + " bytes exceeds " +
                      std::to_string(kMaxPatternBytes);
    return compiled;
  }
  std::string source(pattern);
  if (kind == Kind::Glob) {
    auto translated = glob_to_regex(pattern);
    if (!translated) {
      compiled->error = "unterminated [ in glob";
      return compiled;
    }
    source = std::move(*translated);
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);  // bounds the automaton an untrusted pattern can build
  compiled->re = std::make_unique<RE2>(source, options);
  if (!compiled->re->ok()) {
    compiled->error = compiled->re->error();
    compiled->re.reset();
  }
  return compiled;
}

std::variant<bool, std::string> PatternCache::run(const Compiled& compiled, std::string_view text) {
  if (!compiled.re) {
    return compiled.error;
  }
  return RE2::FullMatch(text, *compiled.re);
}

std::variant<bool, std::string> PatternCache::match(Kind kind, std::string_view pattern, std::string_view text) {
  {
    // The reader keeps the table (and its compiled patterns) alive while
    // matching; RE2 matching is const and thread-safe.
    auto reader = tables_.read();
    const Map& map = kind == Kind::Regex ? reader.get()->regex : reader.get()->glob;
    if (auto it = map.find(pattern); it != map.end()) {
      return run(*it->second, text);
    }
  }
  std::shared_ptr<const Compiled> compiled = compile(kind, pattern);
  {
    std::lock_guard lock(write_mutex_);
    const Tables& current = *tables_.owner();
    if (current.regex.size() + current.glob.size() < max_entries_) {
      auto next = std::make_shared<Tables>(current);
      // A bad pattern is cached too: it fails fast next time.
      (kind == Kind::Regex ? next->regex : next->glob).emplace(std::string(pattern), compiled);
      tables_.exchange(std::move(next));
    }
  }
  return run(*compiled, text);
}

std::size_t PatternCache::size() const {
  auto reader = tables_.read();
  return reader.get()->regex.size() + reader.get()->glob.size();
}

}  // namespace wasmplug::kestrel
