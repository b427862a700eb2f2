#include "host/kestrel.hpp"

#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace wasmplug::detail {

namespace {

using kestrel::Value;

KestrelCall* context_of(HostCall& call) {
  HostContext* context = call.state().host_context;
  return context != nullptr && context->kind == HostContext::Kind::Kestrel ? static_cast<KestrelCall*>(context)
                                                                           : nullptr;
}

// A missing field or a field of another type reads as 0 / empty (the seed).
template <class T>
const T* field(HostCall& call, std::uint32_t id) {
  KestrelCall* context = context_of(call);
  const Value* value = context != nullptr && context->event != nullptr ? context->event->get(id) : nullptr;
  return value != nullptr ? std::get_if<T>(value) : nullptr;
}

Result<std::int64_t> event_get_i64(HostCall& call, std::uint32_t id) {
  const auto* v = field<std::int64_t>(call, id);
  return v != nullptr ? *v : 0;
}

Result<std::uint64_t> event_get_u64(HostCall& call, std::uint32_t id) {
  const auto* v = field<std::uint64_t>(call, id);
  return v != nullptr ? *v : 0;
}

Result<double> event_get_f64(HostCall& call, std::uint32_t id) {
  const auto* v = field<double>(call, id);
  return v != nullptr ? *v : 0.0;
}

Result<std::int32_t> event_get_bool(HostCall& call, std::uint32_t id) {
  const auto* v = field<bool>(call, id);
  return v != nullptr && *v ? 1 : 0;
}

Result<std::int32_t> event_has_field(HostCall& call, std::uint32_t id) {
  KestrelCall* context = context_of(call);
  return context != nullptr && context->event != nullptr && context->event->get(id) != nullptr ? 1 : 0;
}

// Below this much work (bytes copied or compared) a host function ends
// without reading the clock: the guest's own deadline checks (epoch, at every
// loop and call) run before and after it, so a call overruns by at most one
// such step; the clock read costs more than the work (rdtsc ≈ 10 ns here).
constexpr std::size_t kUncheckedWork = std::size_t{4} << 10;

// The seed's form: copies the string to buf_ptr and returns its length; the
// guest provides room (the host only checks that it stays inside memory).
Result<std::int32_t> event_get_str(HostCall& call, std::uint32_t id, std::uint32_t buf_ptr) {
  const auto* s = field<std::string>(call, id);
  if (s == nullptr || s->empty()) {
    return 0;
  }
  GuestMemory memory = call.memory_covering(buf_ptr, s->size());
  auto dest = memory.slice(buf_ptr, s->size());
  if (!dest) [[unlikely]] {
    return call.error(ErrorKind::AbiViolation, "event_get_str: field " + std::to_string(id) + " (" +
                                                   std::to_string(s->size()) + " bytes) to " +
                                                   memory.describe_out_of_bounds(buf_ptr, s->size()));
  }
  std::memcpy(dest->data(), s->data(), s->size());
  if (s->size() >= kUncheckedWork) {
    if (auto in_time = call.check_deadline(); !in_time) {
      return std::move(in_time).error();
    }
  }
  return static_cast<std::int32_t>(s->size());
}

Result<void> alert_emit(HostCall& call, std::int32_t code) {
  KestrelCall* context = context_of(call);
  if (context == nullptr || context->alerts == nullptr) {
    return {};  // no evaluation in progress (e.g. a start function): nothing to collect
  }
  if (context->alerts->size() >= kMaxAlertsPerEvaluation) {
    return call.error(ErrorKind::LimitExceeded,
                      "alert_emit: more than " + std::to_string(kMaxAlertsPerEvaluation) + " alerts in one evaluation");
  }
  context->alerts->push_back(kestrel::Alert{std::string(context->rule_id), code});
  return {};
}

// How much text a substring search scans between two deadline checks: a few
// milliseconds at worst, so a host function overruns the deadline by at most that.
constexpr std::size_t kCheckBytes = std::size_t{256} << 10;

template <class Test>
Result<std::int32_t> compare(HostCall& call, const char* function, std::uint32_t a_ptr, std::uint32_t a_len,
                             std::uint32_t b_ptr, std::uint32_t b_len, Test test) {
  // The views straight from guest memory (what HostCall::text does, without
  // a Result per string: this is the predicates' hottest host function).
  GuestMemory memory = call.memory_covering(a_ptr, a_len);
  auto a_bytes = memory.slice(a_ptr, a_len);
  if (!a_bytes) [[unlikely]] {
    return call.out_of_bounds(memory, function, "first string", a_ptr, a_len);
  }
  memory = call.memory_covering(b_ptr, b_len);
  auto b_bytes = memory.slice(b_ptr, b_len);
  if (!b_bytes) [[unlikely]] {
    return call.out_of_bounds(memory, function, "second string", b_ptr, b_len);
  }
  const std::string_view a(reinterpret_cast<const char*>(a_bytes->data()), a_bytes->size());
  const std::string_view b(reinterpret_cast<const char*>(b_bytes->data()), b_bytes->size());
  auto answer = test(call, a, b);
  if (!answer) {
    return std::move(answer).error();
  }
  // Work proportional to the input ends with a deadline check.
  if (a.size() + b.size() >= kUncheckedWork) {
    if (auto in_time = call.check_deadline(); !in_time) {
      return std::move(in_time).error();
    }
  }
  return *answer ? 1 : 0;
}

// Needles up to 256 bytes: bit-parallel Shift-And, one pass over the
// haystack at ceil(needle/64) word operations per byte. (glibc's memmem uses
// a skip loop for these whose worst case costs up to ~256 comparisons per
// haystack byte: 0.3-0.4 s for 8 MiB of 'a' and a 255-byte needle.)
std::size_t shift_and_find(std::string_view haystack, std::string_view needle) {
  const std::size_t words = (needle.size() + 63) / 64;
  std::array<std::uint64_t, std::size_t{256} * 4> masks{};
  for (std::size_t k = 0; k < needle.size(); ++k) {
    masks[static_cast<unsigned char>(needle[k]) * words + k / 64] |= std::uint64_t{1} << (k % 64);
  }
  std::array<std::uint64_t, 4> state{};
  const std::size_t last_word = (needle.size() - 1) / 64;
  const std::uint64_t last_bit = std::uint64_t{1} << ((needle.size() - 1) % 64);
  for (std::size_t i = 0; i < haystack.size(); ++i) {
    const std::uint64_t* mask = &masks[static_cast<unsigned char>(haystack[i]) * words];
    std::uint64_t carry = 1;
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t shifted = (state[w] << 1) | carry;
      carry = state[w] >> 63;
      state[w] = shifted & mask[w];
    }
    if (state[last_word] & last_bit) {
      return i + 1 - needle.size();
    }
  }
  return std::string_view::npos;
}

// Linear in the haystack for any needle: Shift-And up to 256 bytes, glibc's
// memmem above (Two-Way for needles over 256 bytes; libstdc++'s
// string_view::find is O(haystack x needle): 24.7 s for 8 MiB x 64 KiB). The
// haystack is searched in 256 KiB windows (overlapping by the needle's length
// minus one, so no occurrence is missed) with a deadline check between them.
Result<bool> contains(HostCall& call, std::string_view haystack, std::string_view needle) {
  if (needle.empty()) {
    return true;
  }
  for (std::size_t at = 0; at + needle.size() <= haystack.size(); at += kCheckBytes) {
    const std::string_view window =
        haystack.substr(at, std::min(haystack.size() - at, kCheckBytes + needle.size() - 1));
    const bool found = needle.size() <= 256
                           ? shift_and_find(window, needle) != std::string_view::npos
                           : ::memmem(window.data(), window.size(), needle.data(), needle.size()) != nullptr;
    if (found) {
      return true;
    }
    if (auto in_time = call.check_deadline(); !in_time) {
      return std::move(in_time).error();
    }
  }
  return false;
}

Result<std::int32_t> string_contains(HostCall& call, std::uint32_t h, std::uint32_t hl, std::uint32_t n,
                                     std::uint32_t nl) {
  return compare(call, "string_contains", h, hl, n, nl, contains);
}

// a == b, bytewise; an inline loop for the short affixes rules use (a
// memcmp call costs more than comparing a few bytes).
bool same_bytes(std::string_view a, std::string_view b) noexcept {
  if (a.size() > 16) {
    return std::memcmp(a.data(), b.data(), a.size()) == 0;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

// starts_with / ends_with compare at most the prefix's length.
Result<std::int32_t> string_starts_with(HostCall& call, std::uint32_t s, std::uint32_t sl, std::uint32_t p,
                                        std::uint32_t pl) {
  return compare(call, "string_starts_with", s, sl, p, pl,
                 [](HostCall&, std::string_view a, std::string_view b) -> Result<bool> {
                   return b.size() <= a.size() && same_bytes(a.substr(0, b.size()), b);
                 });
}

Result<std::int32_t> string_ends_with(HostCall& call, std::uint32_t s, std::uint32_t sl, std::uint32_t p,
                                      std::uint32_t pl) {
  return compare(call, "string_ends_with", s, sl, p, pl,
                 [](HostCall&, std::string_view a, std::string_view b) -> Result<bool> {
                   return b.size() <= a.size() && same_bytes(a.substr(a.size() - b.size()), b);
                 });
}

Result<std::int32_t> pattern_match(HostCall& call, kestrel::PatternCache::Kind kind, const char* function,
                                   std::uint32_t p, std::uint32_t pl, std::uint32_t t, std::uint32_t tl) {
  KestrelCall* context = context_of(call);
  if (context == nullptr || context->patterns == nullptr) {
    return call.error(ErrorKind::InvalidArgument, std::string(function) + ": no evaluation in progress");
  }
  auto pattern = call.text(function, "pattern", p, pl);
  if (!pattern) {
    return std::move(pattern).error();
  }
  auto subject = call.text(function, "text", t, tl);
  if (!subject) {
    return std::move(subject).error();
  }
  CallState& state = call.state();
  auto result =
      context->patterns->match(kind, *pattern, *subject, [&state] { return state.deadline_passed(); });
  if (auto* failure = std::get_if<kestrel::PatternCache::Failure>(&result)) {
    if (failure->kind == ErrorKind::Timeout) {
      return state.deadline_error();
    }
    // A bad or oversized pattern fails this call (the rule's fault), never
    // the host; the message holds at most 64 bytes of the pattern.
    return call.error(failure->kind, std::string(function) + ": " + failure->message);
  }
  if (auto in_time = call.check_deadline(); !in_time) {
    return std::move(in_time).error();
  }
  return std::get<bool>(result) ? 1 : 0;
}

Result<std::int32_t> regex_match(HostCall& call, std::uint32_t p, std::uint32_t pl, std::uint32_t t,
                                 std::uint32_t tl) {
  return pattern_match(call, kestrel::PatternCache::Kind::Regex, "regex_match", p, pl, t, tl);
}

Result<std::int32_t> glob_match(HostCall& call, std::uint32_t p, std::uint32_t pl, std::uint32_t t,
                                std::uint32_t tl) {
  return pattern_match(call, kestrel::PatternCache::Kind::Glob, "glob_match", p, pl, t, tl);
}

}  // namespace

std::span<const HostFuncDef> kestrel_host_functions() {
  static const std::vector<HostFuncDef> defs = {
      host_func<&event_get_i64>("env", "event_get_i64"),
      host_func<&event_get_u64>("env", "event_get_u64"),
      host_func<&event_get_f64>("env", "event_get_f64"),
      host_func<&event_get_bool>("env", "event_get_bool"),
      host_func<&event_get_str>("env", "event_get_str"),
      host_func<&event_has_field>("env", "event_has_field"),
      host_func<&string_contains>("env", "string_contains"),
      host_func<&string_starts_with>("env", "string_starts_with"),
      host_func<&string_ends_with>("env", "string_ends_with"),
      host_func<&regex_match>("env", "regex_match"),
      host_func<&glob_match>("env", "glob_match"),
      host_func<&alert_emit>("env", "alert_emit"),
  };
  return defs;
}

}  // namespace wasmplug::detail
