// The Kestrel engine: rules compiled once, a warm pool of instances per rule,
// one event per evaluation handed to the host functions.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "isolation/call.hpp"
#include "host/kestrel.hpp"
#include "engine/guarded_ptr.hpp"
#include "wasmplug/kestrel.hpp"

namespace wasmplug::kestrel {

namespace {

// The compiled rules by id, ordered by (length, bytes): a lookup settles most
// probes on the length and makes one memcmp for the rule it finds. A
// std::map<std::string> made two string comparisons per level (≈ 100
// instructions per evaluation with one rule).
class RuleMap {
 public:
  [[nodiscard]] const Plugin* find(std::string_view id) const noexcept {
    std::size_t lo = 0;
    std::size_t hi = rules_.size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      const int order = compare(rules_[mid].first, id);
      if (order == 0) {
        return rules_[mid].second.get();
      }
      if (order < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return nullptr;
  }
  void set(std::string_view id, std::shared_ptr<const Plugin> plugin) {
    auto at = lower_bound(id);
    if (at != rules_.end() && at->first == id) {
      at->second = std::move(plugin);
    } else {
      rules_.emplace(at, std::string(id), std::move(plugin));
    }
  }
  /// False when there is no rule `id`.
  bool erase(std::string_view id) {
    auto at = lower_bound(id);
    if (at == rules_.end() || at->first != id) {
      return false;
    }
    rules_.erase(at);
    return true;
  }

 private:
  using Rule = std::pair<std::string, std::shared_ptr<const Plugin>>;
  static int compare(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
      return a.size() < b.size() ? -1 : 1;
    }
    return a.empty() ? 0 : std::memcmp(a.data(), b.data(), a.size());
  }
  std::vector<Rule>::iterator lower_bound(std::string_view id) {
    return std::lower_bound(rules_.begin(), rules_.end(), id,
                            [](const Rule& rule, std::string_view key) { return compare(rule.first, key) < 0; });
  }
  std::vector<Rule> rules_;
};

}  // namespace

struct Engine::Rules {
  using Map = RuleMap;
  detail::GuardedPtr<const Map> table{std::make_shared<const Map>()};
  std::mutex write_mutex;

  // Under write_mutex. exchange() returns once no evaluation can still see
  // the old table; dropping it frees the rules only it held (their warm
  // instances go to the runtime's retirer). Nothing is kept until the
  // Engine is destroyed.
  void publish(std::shared_ptr<const Map> next) {
    std::shared_ptr<const Map> old = table.exchange(std::move(next));
    old.reset();
  }
};

Engine::Engine(Runtime& runtime, std::shared_ptr<const SchemaRegistry> schema, EngineConfig config)
    : runtime_(&runtime),
      schema_(schema ? std::move(schema) : std::make_shared<const SchemaRegistry>()),
      config_(config),
      // A bad config is reported by compile_rule / eval_adhoc_predicate; the
      // cache is then built with the defaults so that nothing oversized is allocated.
      patterns_(std::make_unique<PatternCache>(validate(config).ok() ? config : EngineConfig{})),
      rules_(std::make_unique<Rules>()) {}

Engine::~Engine() = default;

LoadOptions Engine::load_options(std::string name, Isolation isolation) const {
  LoadOptions options;
  options.name = std::move(name);
  options.abi = AbiProfile::Kestrel;
  options.isolation = isolation;
  options.limits.memory_bytes = std::uint64_t{config_.max_memory_pages} << 16;
  options.limits.table_elements = config_.max_table_elements;
  options.limits.deadline = config_.deadline;
  options.pool.max_instances = config_.instance_pool_size;
  options.pool.acquire_timeout = config_.instance_timeout;
  return options;
}

Result<void> Engine::compile_rule(std::string_view rule_id, std::span<const std::uint8_t> wasm) {
  if (rule_id.empty()) {
    return Error{ErrorKind::InvalidArgument, Phase::Load, {}, {}, "the rule id must not be empty"};
  }
  if (auto valid = validate(config_); !valid) {
    return valid;
  }
  auto plugin = runtime_->load(wasm, load_options(std::string(rule_id), Isolation::Warm));
  if (!plugin) {
    return std::move(plugin).error();
  }
  std::lock_guard lock(rules_->write_mutex);
  auto next = std::make_shared<Rules::Map>(*rules_->table.owner());
  next->set(rule_id, std::move(plugin).value());
  rules_->publish(std::move(next));
  return {};
}

Result<void> Engine::remove_rule(std::string_view rule_id) {
  std::lock_guard lock(rules_->write_mutex);
  auto next = std::make_shared<Rules::Map>(*rules_->table.owner());
  if (!next->erase(rule_id)) {
    return Error{ErrorKind::InvalidArgument, Phase::Load, std::string(rule_id), {},
                 "no rule '" + std::string(rule_id) + "'"};
  }
  rules_->publish(std::move(next));
  return {};
}

bool Engine::has_rule(std::string_view rule_id) const {
  auto reader = rules_->table.read();
  return reader.get()->find(rule_id) != nullptr;
}

std::size_t Engine::cached_patterns() const { return patterns_->size(); }

// Inline into evaluate (and eval_adhoc_predicate, the only other caller, in
// this file): one out-of-line hop less per evaluation.
[[gnu::always_inline]] inline Result<EvalResult> Engine::run(const Plugin& plugin, std::string_view rule_id,
                                                             const Event& event) const {
  EvalResult result;
  detail::KestrelCall context(&event, patterns_.get(), rule_id, &result.alerts);
  auto out = detail::dispatch_call(runtime_->engine(), plugin, Hook::Filter, {}, &context);
  if (!out) {
    return std::move(out).error();
  }
  result.matched = out->kind == Output::Kind::Keep;
  return result;
}

Result<EvalResult> Engine::evaluate(std::string_view rule_id, const Event& event) const {
  // The reader keeps the table, and so the rule's plugin, alive for the call.
  auto reader = rules_->table.read();
  const Plugin* plugin = reader.get()->find(rule_id);
  if (plugin == nullptr) {
    return Error{ErrorKind::InvalidArgument, Phase::Call, std::string(rule_id), "filter",
                 "no rule '" + std::string(rule_id) + "' (compile_rule it first)"};
  }
  return run(*plugin, rule_id, event);
}

Result<EvalResult> Engine::eval_adhoc_predicate(std::span<const std::uint8_t> wasm, const Event& event) {
  if (auto valid = validate(config_); !valid) {
    return std::move(valid).error();
  }
  // Fresh isolation, and the runtime's load cache keeps a module compiled
  // while it is in use; an ad-hoc predicate leaves nothing behind.
  auto plugin = runtime_->load(wasm, load_options("adhoc", Isolation::Fresh));
  if (!plugin) {
    return std::move(plugin).error();
  }
  return run(**plugin, "adhoc", event);
}

}  // namespace wasmplug::kestrel
