// wasmplug — the Kestrel predicate profile (docs/profiles/kestrel.md): typed
// events addressed by field id, a schema registry, and an engine with the
// seed's API (compile_rule, evaluate, eval_adhoc_predicate).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wasmplug/error.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::kestrel {

enum class FieldType : std::uint8_t { I64, U64, F64, Bool, String };
[[nodiscard]] std::string_view to_string(FieldType type) noexcept;

/// A typed field value. The alternative's index matches FieldType.
using Value = std::variant<std::int64_t, std::uint64_t, double, bool, std::string>;

struct FieldInfo {
  std::uint32_t id;
  std::string name;
  FieldType type;
};

/// Field name ↔ id ↔ type. Fill it before sharing it (register_field is not
/// synchronized with lookups); after that it is read-only and thread-safe.
class SchemaRegistry {
 public:
  /// Registers `name` with `type` under `id`. InvalidArgument if the name or
  /// the id is taken by a different field; registering the same field again
  /// is a no-op.
  [[nodiscard]] Result<std::uint32_t> register_field(std::uint32_t id, std::string name, FieldType type);
  [[nodiscard]] const FieldInfo* find(std::string_view name) const noexcept;
  [[nodiscard]] const FieldInfo* find(std::uint32_t id) const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return by_id_.size(); }

 private:
  std::map<std::uint32_t, FieldInfo> by_id_;
  std::map<std::string, std::uint32_t, std::less<>> by_name_;
};

/// One event: typed values by field id. Ids below kDirectIds are looked up
/// in a table of slots (one load, no search: what host functions read while
/// a predicate runs); larger ids by a binary search over a small sorted array
/// of ids (kept apart from the values, so a lookup touches one or two cache
/// lines). A plain value; not synchronized.
class Event {
 public:
  /// Field ids below this are found without a search.
  static constexpr std::uint32_t kDirectIds = 128;

  /// Sets field `id` (replacing any value).
  Event& set(std::uint32_t id, Value value);
  /// Sets a field by schema name, checking the value's type against the
  /// schema. InvalidArgument names an unknown field or a type mismatch.
  [[nodiscard]] Result<void> set(const SchemaRegistry& schema, std::string_view name, Value value);
  /// The value, or null if the field is absent.
  [[nodiscard]] const Value* get(std::uint32_t id) const noexcept {
    if (id < kDirectIds) {
      const std::uint8_t slot = direct_[id];
      return slot == 0 ? nullptr : &values_[slot - 1U];
    }
    return search(id);
  }
  [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }

 private:
  [[nodiscard]] const Value* search(std::uint32_t id) const noexcept;

  std::vector<std::uint32_t> ids_;  // sorted
  std::vector<Value> values_;       // values_[i] belongs to ids_[i]
  // direct_[id] = 1 + the index of id in ids_, 0 when absent. Ids are sorted,
  // so an id below kDirectIds has an index below kDirectIds: it fits a byte.
  std::array<std::uint8_t, kDirectIds> direct_{};
};

/// An alert a predicate emitted with alert_emit(code) during one evaluation.
struct Alert {
  std::string rule_id;
  std::int32_t code;
};

struct EvalResult {
  bool matched = false;
  std::vector<Alert> alerts;
};

/// The seed's WasmConfig defaults.
struct EngineConfig {
  std::uint32_t max_memory_pages = 256;  ///< 16 MiB
  std::uint32_t max_table_elements = 10'000;
  std::uint32_t instance_pool_size = 10;  ///< warm instances per rule
  std::chrono::milliseconds instance_timeout{5000};  ///< wait for a pooled instance
  std::chrono::milliseconds deadline{50};            ///< per pred_eval call
  /// Most patterns (regex + glob) the shared pattern cache keeps; 1..1,000,000.
  /// Past it (or past max_pattern_cache_bytes) patterns are compiled per use.
  std::size_t max_cached_patterns = 4096;
  /// Bytes the pattern cache may hold, counting each pattern's text and its
  /// compiled form (a regex is charged its whole regex_max_mem, which RE2 may
  /// grow into while matching). At least 64 KiB.
  std::size_t max_pattern_cache_bytes = std::size_t{128} << 20;
  /// Longest regex or glob pattern (bytes) regex_match / glob_match accept;
  /// a longer one fails the evaluation with LimitExceeded and is never cached.
  /// 1..65,536.
  std::size_t max_pattern_bytes = 1024;
  /// RE2 memory budget of one regex (RE2::Options::max_mem: program plus
  /// matching automata). A pattern that needs more fails the evaluation with
  /// LimitExceeded. 64 KiB..64 MiB.
  std::size_t regex_max_mem = std::size_t{1} << 20;
  /// Most work one regex_match may do: text bytes x compiled program size
  /// (RE2's worst case, its NFA, costs about that many steps, and a match
  /// cannot be interrupted; at ~10-20 ns a step the default is tens of ms).
  /// Past it the evaluation fails with LimitExceeded.
  /// Globs and substring searches need no such bound: they are linear in the
  /// text and check the deadline as they go. At least 1.
  std::uint64_t max_regex_work = std::uint64_t{1} << 22;
};

/// InvalidArgument (phase Config) naming the first EngineConfig field out of
/// its documented range; Engine::compile_rule and eval_adhoc_predicate
/// return it for an engine built with a bad config.
[[nodiscard]] Result<void> validate(const EngineConfig& config);

class PatternCache;

/// Compiles predicate modules once per rule and evaluates them against events
/// from any number of threads (a pool of instances per rule). evaluate()
/// takes no lock and writes no shared memory to find its rule (an immutable
/// rule table read through per-CPU reader counters); compile_rule() swaps in
/// a new table and waits for evaluations still reading the old one. The
/// Runtime must outlive the Engine.
class Engine {
 public:
  Engine(Runtime& runtime, std::shared_ptr<const SchemaRegistry> schema, EngineConfig config = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Admission + compile + pool for `rule_id` (replacing an earlier version).
  [[nodiscard]] Result<void> compile_rule(std::string_view rule_id, std::span<const std::uint8_t> wasm);
  /// Removes the rule; evaluations in flight finish on it. Its plugin and
  /// warm instances are released once they have (the table it was in is
  /// freed after a grace period, as on every replacement).
  /// InvalidArgument for an unknown rule.
  [[nodiscard]] Result<void> remove_rule(std::string_view rule_id);
  /// Runs the rule's pred_eval on `event`. InvalidArgument for an unknown
  /// rule; any guest failure as the Error; a bad pattern fails the call.
  [[nodiscard]] Result<EvalResult> evaluate(std::string_view rule_id, const Event& event) const;
  /// Compiles (cached by content) and evaluates a module once.
  [[nodiscard]] Result<EvalResult> eval_adhoc_predicate(std::span<const std::uint8_t> wasm, const Event& event);
  [[nodiscard]] bool has_rule(std::string_view rule_id) const;
  [[nodiscard]] const SchemaRegistry& schema() const noexcept { return *schema_; }
  /// Patterns compiled so far (regex and glob); for tests and metrics.
  [[nodiscard]] std::size_t cached_patterns() const;

 private:
  [[nodiscard]] LoadOptions load_options(std::string name, Isolation isolation) const;
  [[nodiscard]] Result<EvalResult> run(const Plugin& plugin, std::string_view rule_id, const Event& event) const;

  Runtime* runtime_;
  std::shared_ptr<const SchemaRegistry> schema_;
  EngineConfig config_;
  std::unique_ptr<PatternCache> patterns_;
  struct Rules;
  std::unique_ptr<Rules> rules_;
};

}  // namespace wasmplug::kestrel
