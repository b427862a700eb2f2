#include "wasmplug/registry.hpp"

#include <algorithm>
#include <string>

#include "instance/plugin_code.hpp"
#include "isolation/warm_pool.hpp"
#include "engine/guarded_ptr.hpp"

namespace wasmplug {

using namespace detail;

struct Registry::Slot {
  Slot(std::string n, Hook k, FailurePolicy policy, std::uint32_t trip, std::shared_ptr<const Plugin> plugin)
      : name(std::move(n)), kind(k), on_failure(policy), trip_after(trip), current(std::move(plugin)) {}
  std::string name;
  Hook kind;
  FailurePolicy on_failure;
  std::uint32_t trip_after;
  GuardedPtr<const Plugin> current;        // read per call; written under write_mutex_
  std::shared_ptr<const Plugin> previous;  // guarded by write_mutex_
  mutable std::atomic<std::uint32_t> consecutive_failures{0};
  mutable std::atomic<bool> tripped{false};
};

namespace {

Error slot_error(std::string_view name, ErrorKind kind, std::string message, std::optional<Hook> hook = {}) {
  return Error{kind, Phase::Load, std::string(name), hook ? std::string(to_string(*hook)) : std::string{},
               std::move(message)};
}

// An old version keeps serving the calls that hold it; its idle warm
// instances are shut down now and busy ones as they come back.
void set_draining(const std::shared_ptr<const Plugin>& plugin, bool draining) {
  if (plugin && plugin->code().pool) {
    plugin->code().pool->set_draining(draining);
  }
}

// Creates one instance and runs its initialisers, then the probe if given.
Result<void> run_canary(Runtime& runtime, const Plugin& plugin, Hook kind, const SlotOptions& options) {
  if (auto ready = runtime.prepare(plugin); !ready) {
    return ready;
  }
  if (options.canary_probe) {
    auto out = runtime.call(plugin, kind, *options.canary_probe);
    if (!out) {
      Error e = std::move(out).error();
      e.message = "canary probe failed: " + e.message;
      return e;
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(FailurePolicy policy) noexcept {
  return policy == FailurePolicy::FailOpen ? "fail-open" : "fail-closed";
}

Registry::Registry(Runtime& runtime)
    : runtime_(&runtime), slots_(std::make_unique<GuardedPtr<const SlotMap>>(std::make_shared<const SlotMap>())) {}

Registry::~Registry() = default;

void Registry::publish(std::shared_ptr<const SlotMap> next) {
  // exchange() returns once no call can still see the old table; dropping it
  // here frees every slot only it held (a removed slot: its current and
  // previous plugins, whose warm instances go to the runtime's retirer).
  std::shared_ptr<const SlotMap> old = slots_->exchange(std::move(next));
  old.reset();
}

Registry::Slot* Registry::find_locked(std::string_view name) const {
  const SlotMap& map = *slots_->owner();
  auto it = map.find(name);
  return it == map.end() ? nullptr : it->second.get();
}

Result<std::uint64_t> Registry::register_plugin(std::string_view name, Hook kind, std::span<const std::uint8_t> wasm,
                                                const SlotOptions& options) {
  if (name.empty()) {
    return slot_error(name, ErrorKind::InvalidArgument, "the slot name must not be empty");
  }
  std::lock_guard lock(write_mutex_);
  Slot* slot = find_locked(name);
  if (slot && slot->kind != kind) {
    return slot_error(name, ErrorKind::InvalidArgument,
                      "slot '" + std::string(name) + "' serves the " + std::string(to_string(slot->kind)) +
                          " hook; it cannot switch to " + std::string(to_string(kind)),
                      kind);
  }
  LoadOptions load = options.load;
  load.name = std::string(name);
  // The slot's kind is a hook the slot will call: admission refuses a module without it.
  if (std::ranges::find(load.required_hooks, kind) == load.required_hooks.end()) {
    load.required_hooks.push_back(kind);
  }
  auto plugin = runtime_->load(wasm, load);
  if (!plugin) {
    return std::move(plugin).error();
  }
  if (!(*plugin)->has_hook(kind)) {
    return slot_error(name, ErrorKind::InvalidArgument,
                      "the plugin does not export the " + std::string(to_string(kind)) + " hook this slot serves",
                      kind);
  }
  if (slot && slot->current.owner()->content_hash() == (*plugin)->content_hash()) {
    return slot->current.owner()->version_id();  // identical content: nothing to do
  }
  if (options.canary || options.canary_probe) {
    if (auto canary = run_canary(*runtime_, **plugin, kind, options); !canary) {
      return std::move(canary).error();
    }
  }

  const std::uint64_t version = (*plugin)->version_id();
  if (slot) {
    swap_in(*slot, *plugin);
  } else {
    // The load cache may hand back a version of a removed slot still held
    // elsewhere, drained by remove(): it serves again.
    set_draining(*plugin, false);
    auto created = std::make_shared<Slot>(std::string(name), kind, options.on_failure, options.trip_after, *plugin);
    auto next = std::make_shared<SlotMap>(*slots_->owner());
    next->emplace(std::string(name), std::move(created));
    publish(std::move(next));
    if (const auto& metrics = runtime_->config().metrics) {
      metrics->on_swap(name);
    }
  }
  return version;
}

void Registry::swap_in(Slot& slot, std::shared_ptr<const Plugin> next) {
  // The incoming version (possibly the previous one coming back) serves and
  // keeps its instances; the outgoing one is kept for rollback and drains.
  set_draining(next, false);
  slot.previous = slot.current.exchange(std::move(next));
  set_draining(slot.previous, true);
  slot.consecutive_failures.store(0, std::memory_order_relaxed);
  slot.tripped.store(false, std::memory_order_release);
  if (const auto& metrics = runtime_->config().metrics) {
    metrics->on_swap(slot.name);
  }
}

Result<std::uint64_t> Registry::rollback(std::string_view name) {
  std::lock_guard lock(write_mutex_);
  Slot* slot = find_locked(name);
  if (!slot) {
    return slot_error(name, ErrorKind::InvalidArgument, "no slot named '" + std::string(name) + "'");
  }
  if (!slot->previous) {
    return slot_error(name, ErrorKind::InvalidArgument,
                      "slot '" + std::string(name) + "' has no previous version to roll back to");
  }
  swap_in(*slot, slot->previous);
  return slot->current.owner()->version_id();
}

Result<void> Registry::remove(std::string_view name) {
  std::lock_guard lock(write_mutex_);
  Slot* slot = find_locked(name);
  if (slot == nullptr) {
    return slot_error(name, ErrorKind::InvalidArgument, "no slot named '" + std::string(name) + "'");
  }
  // Idle instances go now, even if someone outside still holds a version
  // (current() handed it out): the slot serves no more calls.
  set_draining(slot->current.owner(), true);
  set_draining(slot->previous, true);
  auto next = std::make_shared<SlotMap>(*slots_->owner());
  next->erase(next->find(name));
  publish(std::move(next));
  return {};
}

Result<Output> Registry::fallback(const Slot& slot, std::span<const std::uint8_t> input) const {
  if (const auto& metrics = runtime_->config().metrics) {
    metrics->on_fallback(slot.name, slot.kind);
  }
  Output out;
  out.fallback = true;
  switch (slot.kind) {
    case Hook::Transform:
      out.kind = Output::Kind::Bytes;
      out.bytes.assign(input.begin(), input.end());
      break;
    case Hook::Filter: out.kind = Output::Kind::Keep; break;
    case Hook::Observe: out.kind = Output::Kind::Done; break;
  }
  return out;
}

Result<Output> Registry::call(std::string_view name, std::span<const std::uint8_t> input) const {
  // Held for the whole call: keeps the table, and so the slot, alive even if
  // the slot is removed meanwhile.
  auto table = slots_->read();
  auto found = table.get()->find(name);
  Slot* slot = found == table.get()->end() ? nullptr : found->second.get();
  if (!slot) {
    return Error{ErrorKind::InvalidArgument, Phase::Call, std::string(name), {},
                 "no slot named '" + std::string(name) + "'"};
  }
  if (slot->tripped.load(std::memory_order_acquire)) {
    if (slot->on_failure == FailurePolicy::FailOpen) {
      return fallback(*slot, input);
    }
    return Error{ErrorKind::Tripped, Phase::Call, slot->name, std::string(to_string(slot->kind)),
                 "the slot tripped after " + std::to_string(slot->trip_after) +
                     " consecutive failures; register a new version or roll back"};
  }
  // The reader keeps this version alive until the call returns, even if it
  // is swapped out meanwhile.
  auto reader = slot->current.read();
  const Plugin* plugin = reader.get();
  Result<Output> out = runtime_->call(*plugin, slot->kind, input);
  if (out) {
    if (slot->consecutive_failures.load(std::memory_order_relaxed) != 0) {
      slot->consecutive_failures.store(0, std::memory_order_relaxed);
    }
    return out;
  }
  const std::uint32_t failures = slot->consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  // A failure of a version swapped out meanwhile must not trip its successor.
  if (slot->trip_after != 0 && failures >= slot->trip_after && slot->current.read().get() == plugin) {
    slot->tripped.store(true, std::memory_order_release);
  }
  if (slot->on_failure == FailurePolicy::FailOpen) {
    return fallback(*slot, input);
  }
  return out;
}

std::shared_ptr<const Plugin> Registry::current(std::string_view name) const {
  std::lock_guard lock(write_mutex_);
  Slot* slot = find_locked(name);
  if (slot == nullptr) {
    return nullptr;
  }
  return slot->current.owner();
}

std::optional<SlotInfo> Registry::info(std::string_view name) const {
  std::lock_guard lock(write_mutex_);
  Slot* slot = find_locked(name);
  if (!slot) {
    return std::nullopt;
  }
  SlotInfo info;
  info.name = slot->name;
  info.kind = slot->kind;
  info.version = slot->current.owner()->version_id();
  if (slot->previous) {
    info.previous_version = slot->previous->version_id();
  }
  info.on_failure = slot->on_failure;
  info.tripped = slot->tripped.load(std::memory_order_acquire);
  info.consecutive_failures = slot->consecutive_failures.load(std::memory_order_relaxed);
  return info;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  std::lock_guard lock(write_mutex_);
  for (const auto& [name, slot] : *slots_->owner()) {
    out.push_back(name);
  }
  return out;
}

std::vector<GaugeSample> Registry::pool_gauges() const {
  std::vector<GaugeSample> out;
  std::lock_guard lock(write_mutex_);
  for (const auto& [name, slot] : *slots_->owner()) {
    PoolStats stats = slot->current.owner()->pool_stats();
    out.push_back({"wasmplug_pool_idle_instances", name, static_cast<double>(stats.idle)});
    out.push_back({"wasmplug_pool_busy_instances", name, static_cast<double>(stats.busy)});
  }
  return out;
}

}  // namespace wasmplug
