#include "host/kestrel_patterns.hpp"

#include <bit>
#include <mutex>

namespace wasmplug::kestrel {

namespace {

// How many text bytes a glob scans between two deadline checks: large enough
// that the check (a clock read) costs nothing, small enough that a scan step
// is well under a millisecond even for the longest segment.
constexpr std::size_t kGlobCheckBytes = std::size_t{256} << 10;

bool has(const std::array<std::uint64_t, 4>& set, unsigned char c) { return (set[c >> 6] >> (c & 63)) & 1u; }
void add(std::array<std::uint64_t, 4>& set, unsigned char c) { set[c >> 6] |= std::uint64_t{1} << (c & 63); }

}  // namespace

std::string shorten_pattern(std::string_view pattern, std::size_t keep) {
  std::string out(pattern.substr(0, keep));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  if (pattern.size() > keep) {
    out += "... (" + std::to_string(pattern.size()) + " bytes)";
  }
  return out;
}

std::variant<Glob, std::string> Glob::compile(std::string_view pattern) {
  Glob glob;
  glob.segments_.push_back({0, 0});
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto c = static_cast<unsigned char>(pattern[i]);
    ByteSet set{};
    if (c == '*') {
      glob.has_star_ = true;
      glob.segments_.push_back({glob.atoms_.size(), 0});
      continue;
    }
    if (c == '?') {
      set.fill(~std::uint64_t{0});
    } else if (c == '[') {
      std::size_t j = i + 1;
      bool negate = false;
      if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) {
        negate = true;
        ++j;
      }
      bool first = true;
      for (; j < pattern.size() && (first || pattern[j] != ']'); ++j, first = false) {
        const auto lo = static_cast<unsigned char>(pattern[j]);
        auto hi = lo;
        if (j + 2 < pattern.size() && pattern[j + 1] == '-' && pattern[j + 2] != ']') {
          hi = static_cast<unsigned char>(pattern[j + 2]);
          j += 2;
        }
        if (lo >= 0x80 || hi >= 0x80) {
          return std::string("a glob class takes ASCII characters only");
        }
        if (hi < lo) {
          return std::string("bad range in glob class");
        }
        for (unsigned b = lo; b <= hi; ++b) {
          add(set, static_cast<unsigned char>(b));
        }
      }
      if (j >= pattern.size()) {
        return std::string("unterminated [ in glob");
      }
      if (negate) {
        for (auto& word : set) {
          word = ~word;
        }
      }
      i = j;
    } else {
      add(set, c);
    }
    glob.atoms_.push_back(set);
    ++glob.segments_.back().size;
  }
  return glob;
}

std::size_t Glob::bytes() const noexcept {
  return sizeof(Glob) + atoms_.capacity() * sizeof(ByteSet) + segments_.capacity() * sizeof(Segment);
}

bool Glob::matches_at(const Segment& segment, std::string_view text, std::size_t at) const {
  for (std::size_t k = 0; k < segment.size; ++k) {
    if (!has(atoms_[segment.begin + k], static_cast<unsigned char>(text[at + k]))) {
      return false;
    }
  }
  return true;
}

// Leftmost occurrence of `segment` ending at or before `to`, starting at or
// after `from`, by bit-parallel Shift-And: one pass over the text, costing
// ceil(size/64) word operations per byte, whatever the segment holds (literal
// bytes, '?' or classes). npos when there is none.
std::size_t Glob::find(const Segment& segment, std::string_view text, std::size_t from, std::size_t to,
                       const std::function<bool()>& expired, bool& timed_out) const {
  const std::size_t words = (segment.size + 63) / 64;
  // masks[c * words + w]: bit k set when atom k accepts byte c.
  std::vector<std::uint64_t> masks(256 * words);
  for (std::size_t k = 0; k < segment.size; ++k) {
    const ByteSet& set = atoms_[segment.begin + k];
    for (unsigned c = 0; c < 256; ++c) {
      if (has(set, static_cast<unsigned char>(c))) {
        masks[c * words + k / 64] |= std::uint64_t{1} << (k % 64);
      }
    }
  }
  std::vector<std::uint64_t> state(words, 0);
  const std::size_t last_word = (segment.size - 1) / 64;
  const std::uint64_t last_bit = std::uint64_t{1} << ((segment.size - 1) % 64);
  std::size_t next_check = from + kGlobCheckBytes;
  for (std::size_t i = from; i < to; ++i) {
    if (i == next_check) {
      if (expired && expired()) {
        timed_out = true;
        return std::string_view::npos;
      }
      next_check += kGlobCheckBytes;
    }
    const std::uint64_t* mask = &masks[static_cast<unsigned char>(text[i]) * words];
    std::uint64_t carry = 1;  // a match may start at every byte
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t shifted = (state[w] << 1) | carry;
      carry = state[w] >> 63;
      state[w] = shifted & mask[w];
    }
    if (state[last_word] & last_bit) {
      return i + 1 - segment.size;
    }
  }
  return std::string_view::npos;
}

// The segments between stars have fixed lengths, so placing each one at its
// leftmost occurrence after the previous one is optimal (it ends earliest and
// leaves the most text for the rest): one left-to-right pass, no
// backtracking, linear in the text. The first and last segments are anchored
// at the text's ends.
Glob::Outcome Glob::match(std::string_view text, const std::function<bool()>& expired) const {
  const Segment& first = segments_.front();
  if (!has_star_) {
    return text.size() == first.size && matches_at(first, text, 0) ? Outcome::Match : Outcome::NoMatch;
  }
  const Segment& last = segments_.back();
  if (first.size + last.size > text.size() || !matches_at(first, text, 0) ||
      !matches_at(last, text, text.size() - last.size)) {
    return Outcome::NoMatch;
  }
  std::size_t at = first.size;
  const std::size_t end = text.size() - last.size;
  for (std::size_t s = 1; s + 1 < segments_.size(); ++s) {
    const Segment& segment = segments_[s];
    if (segment.size == 0) {
      continue;
    }
    bool timed_out = false;
    const std::size_t found = find(segment, text, at, end, expired, timed_out);
    if (timed_out) {
      return Outcome::Expired;
    }
    if (found == std::string_view::npos) {
      return Outcome::NoMatch;
    }
    at = found + segment.size;
  }
  return Outcome::Match;
}

PatternCache::PatternCache(const EngineConfig& config) : config_(config) {
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(config.max_cached_patterns, 1) * 2);
  slots_ = std::make_unique<std::atomic<const Entry*>[]>(slots);
  slot_mask_ = slots - 1;
}

PatternCache::~PatternCache() = default;

std::unique_ptr<PatternCache::Entry> PatternCache::compile(Kind kind, std::string_view pattern) const {
  auto entry = std::make_unique<Entry>();
  entry->kind = kind;
  entry->pattern = std::string(pattern);
  auto fail = [&](ErrorKind error_kind, const std::string& why) {
    entry->failure = Failure{error_kind, "invalid pattern '" + shorten_pattern(pattern) + "': " + why};
  };
  if (kind == Kind::Glob) {
    auto glob = Glob::compile(pattern);
    if (auto* error = std::get_if<std::string>(&glob)) {
      fail(ErrorKind::GuestError, *error);
    } else {
      entry->glob = std::make_unique<Glob>(std::move(std::get<Glob>(glob)));
    }
  } else {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(static_cast<std::int64_t>(config_.regex_max_mem));
    entry->regex = std::make_unique<RE2>(pattern, options);
    if (entry->regex->error_code() == RE2::ErrorPatternTooLarge) {
      entry->failure = Failure{ErrorKind::LimitExceeded,
                               "pattern '" + shorten_pattern(pattern) + "' needs more than EngineConfig::regex_max_mem (" +
                                   std::to_string(config_.regex_max_mem) + " bytes)"};
      entry->regex.reset();
    } else if (!entry->regex->ok()) {
      fail(ErrorKind::GuestError, entry->regex->error());
      entry->regex.reset();
    } else {
      entry->program_size = static_cast<std::uint64_t>(std::max(entry->regex->ProgramSize(), 1));
    }
  }
  // The pattern is held twice (our key, RE2's copy); RE2 may grow its
  // automata up to its whole budget while matching, so it is charged that.
  const std::optional<Failure>& failure = entry->failure;
  entry->charge = sizeof(Entry) + 2 * pattern.size() + (entry->regex ? config_.regex_max_mem : 0) +
                  (entry->glob ? entry->glob->bytes() : 0) + (failure ? failure->message.size() : 0);
  return entry;
}

PatternCache::Outcome PatternCache::run(const Entry& entry, std::string_view text,
                                        const std::function<bool()>& expired) const {
  if (entry.failure) {
    return *entry.failure;
  }
  if (entry.glob) {
    switch (entry.glob->match(text, expired)) {
      case Glob::Outcome::Match: return true;
      case Glob::Outcome::NoMatch: return false;
      case Glob::Outcome::Expired: return Failure{ErrorKind::Timeout, "deadline passed while matching"};
    }
  }
  // An RE2 match cannot be interrupted; its worst case (the NFA, when the
  // DFA runs out of its budget) costs about text x program steps.
  const std::uint64_t work = (static_cast<std::uint64_t>(text.size()) + 1) * entry.program_size;
  if (work > config_.max_regex_work) {
    return Failure{ErrorKind::LimitExceeded,
                   "pattern '" + shorten_pattern(entry.pattern) + "' (" + std::to_string(entry.program_size) +
                       " instructions) on a text of " + std::to_string(text.size()) +
                       " bytes exceeds EngineConfig::max_regex_work (" + std::to_string(config_.max_regex_work) +
                       " = text bytes x instructions)"};
  }
  return RE2::FullMatch(text, *entry.regex);
}

const PatternCache::Entry* PatternCache::find(Kind kind, std::string_view pattern, std::size_t hash) const {
  for (std::size_t i = hash & slot_mask_;; i = (i + 1) & slot_mask_) {
    const Entry* entry = slots_[i].load(std::memory_order_acquire);
    if (entry == nullptr) {
      return nullptr;  // the table is never full (twice the entry cap), so probing ends
    }
    if (entry->kind == kind && entry->pattern == pattern) {
      return entry;
    }
  }
}

PatternCache::Outcome PatternCache::match(Kind kind, std::string_view pattern, std::string_view text,
                                          const std::function<bool()>& expired) {
  const char* what = kind == Kind::Regex ? "regex" : "glob";
  if (pattern.size() > config_.max_pattern_bytes) {
    // Refused before anything is compiled or copied.
    return Failure{ErrorKind::LimitExceeded, std::string(what) + " pattern '" + shorten_pattern(pattern) +
                                                 "' is longer than EngineConfig::max_pattern_bytes (" +
                                                 std::to_string(config_.max_pattern_bytes) + ")"};
  }
  const std::size_t hash = std::hash<std::string_view>{}(pattern) ^ static_cast<std::size_t>(kind);
  if (const Entry* cached = find(kind, pattern, hash)) {
    return run(*cached, text, expired);
  }
  std::unique_ptr<Entry> compiled = compile(kind, pattern);
  const Entry* entry = compiled.get();
  {
    std::lock_guard lock(write_mutex_);
    if (const Entry* raced = find(kind, pattern, hash)) {
      entry = raced;
    } else if (size_.load(std::memory_order_relaxed) < config_.max_cached_patterns &&
               compiled->charge <= config_.max_pattern_cache_bytes - bytes_.load(std::memory_order_relaxed)) {
      // A bad pattern is cached too (it fails fast next time) while there is
      // room; past the bounds a pattern is compiled for this match only.
      std::size_t i = hash & slot_mask_;
      while (slots_[i].load(std::memory_order_relaxed) != nullptr) {
        i = (i + 1) & slot_mask_;
      }
      bytes_.fetch_add(compiled->charge, std::memory_order_relaxed);
      size_.fetch_add(1, std::memory_order_relaxed);
      owned_.push_back(std::move(compiled));
      slots_[i].store(entry, std::memory_order_release);
    }
  }
  // Matching runs outside the lock; an uncached `compiled` is freed after.
  return run(*entry, text, expired);
}

std::size_t PatternCache::size() const { return size_.load(std::memory_order_relaxed); }

std::size_t PatternCache::bytes() const { return bytes_.load(std::memory_order_relaxed); }

}  // namespace wasmplug::kestrel

namespace wasmplug::kestrel {

Result<void> validate(const EngineConfig& config) {
  auto out_of_range = [](const char* field, std::uint64_t value, const char* range) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, {}, {},
                 std::string("EngineConfig::") + field + " must be " + range + ", got " + std::to_string(value)};
  };
  if (config.max_cached_patterns == 0 || config.max_cached_patterns > 1'000'000) {
    return out_of_range("max_cached_patterns", config.max_cached_patterns, "in 1..1000000");
  }
  if (config.max_pattern_cache_bytes < (std::size_t{64} << 10)) {
    return out_of_range("max_pattern_cache_bytes", config.max_pattern_cache_bytes, "at least 65536");
  }
  if (config.max_pattern_bytes == 0 || config.max_pattern_bytes > 65'536) {
    return out_of_range("max_pattern_bytes", config.max_pattern_bytes, "in 1..65536");
  }
  if (config.regex_max_mem < (std::size_t{64} << 10) || config.regex_max_mem > (std::size_t{64} << 20)) {
    return out_of_range("regex_max_mem", config.regex_max_mem, "in 65536..67108864");
  }
  if (config.max_regex_work == 0) {
    return out_of_range("max_regex_work", config.max_regex_work, "at least 1");
  }
  return {};
}

}  // namespace wasmplug::kestrel
