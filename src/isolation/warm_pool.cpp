#include "isolation/warm_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <string>
#include <thread>

#include "abi/abi.hpp"
#include "isolation/kept_call.hpp"
#include "isolation/retirer.hpp"
#include "engine/engine.hpp"

namespace wasmplug::detail {

WarmPool::WarmPool(const Engine& engine, PoolOptions options) : engine_(&engine), options_(options) {
  const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t count = std::min<std::size_t>(cpus, std::max<std::uint32_t>(1, options.max_instances));
  for (std::size_t i = 0; i < count; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

// No call can be in flight: every call holds a reference to the Plugin that
// owns this pool. Idle instances still here were refused by the Retirer
// (queue full, runtime shutting down): they go without wp_shutdown.
WarmPool::~WarmPool() = default;

std::vector<ReadyInstance> WarmPool::take_idle_instances() {
  std::vector<ReadyInstance> out;
  while (EntryPtr entry = take_idle()) {
    out.push_back(std::move(entry->ready));
    release_slot();
  }
  return out;
}

std::size_t WarmPool::home_shard() const noexcept {
  // No division on the common path (one shard per CPU): a 64-bit div costs
  // tens of cycles on every lease.
  const int cpu = sched_getcpu();
  const auto shard = static_cast<std::size_t>(cpu < 0 ? 0 : cpu);
  return shard < shards_.size() ? shard : shard % shards_.size();
}

std::uint32_t WarmPool::idle_count() const {
  std::size_t idle = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    idle += shard->idle.size() + (shard->hot.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
  }
  return static_cast<std::uint32_t>(idle);
}

// Counters live in the pool, not per call: the hot path writes only the
// shard it locks and the instance it uses.
PoolStats WarmPool::stats() const {
  PoolStats s;
  s.idle = idle_count();
  s.busy = total_.load(std::memory_order_relaxed) - s.idle;
  s.created = created_.load(std::memory_order_relaxed);
  s.discarded = discarded_.load(std::memory_order_relaxed);
  s.retired = retired_.load(std::memory_order_relaxed);
  s.saturated = saturated_.load(std::memory_order_relaxed);
  return s;
}

WarmPool::EntryPtr WarmPool::take_idle() {
  const std::size_t home = home_shard();
  for (std::size_t i = 0, at = home; i < shards_.size(); ++i, at = at + 1 == shards_.size() ? 0 : at + 1) {
    Shard& shard = *shards_[at];
    // Other shards' hot slots are looked at before they are written (a
    // steal is rare; an exchange on every shard would bounce their lines).
    if (i == 0 || shard.hot.load(std::memory_order_relaxed) != nullptr) {
      if (Entry* hot = shard.hot.exchange(nullptr, std::memory_order_acq_rel)) {
        hot->home = home;
        return EntryPtr(hot);
      }
    }
    std::lock_guard lock(shard.mutex);
    if (!shard.idle.empty()) {
      EntryPtr entry = std::move(shard.idle.back());
      shard.idle.pop_back();
      entry->home = home;
      return entry;
    }
  }
  return nullptr;
}

bool WarmPool::reserve_slot() noexcept {
  std::uint32_t total = total_.load(std::memory_order_relaxed);
  while (total < options_.max_instances) {
    if (total_.compare_exchange_weak(total, total + 1, std::memory_order_acq_rel)) {
      return true;
    }
  }
  return false;
}

void WarmPool::release_slot() noexcept {
  total_.fetch_sub(1, std::memory_order_acq_rel);
  if (waiters_.load(std::memory_order_acquire) != 0) {
    std::lock_guard lock(wait_mutex_);
    available_.notify_one();
  }
}

Result<Output> WarmPool::call_leased(EntryPtr entry, const Plugin& plugin, Hook hook,
                                     std::span<const std::uint8_t> input, HostContext* context) {
  bool healthy = false;
  Result<Output> out = call_kept_instance(entry->instance(), plugin, hook, input, context, healthy);
  ++entry->calls;
  return_leased(std::move(entry), healthy);
  return out;
}

void WarmPool::return_leased(EntryPtr entry, bool healthy) {
  const bool keep = healthy && !draining_.load(std::memory_order_acquire) &&
                    (options_.recycle_after_calls == 0 || entry->calls < options_.recycle_after_calls) &&
                    options_.recycle_memory_bytes == 0;
  if (keep) [[likely]] {
    Entry* raw = entry.release();  // owned by the hot slot, or back in `entry`
    Entry* empty = nullptr;
    if (shards_[raw->home]->hot.compare_exchange_strong(empty, raw, std::memory_order_acq_rel,
                                                        std::memory_order_relaxed)) [[likely]] {
      if (waiters_.load(std::memory_order_acquire) != 0) [[unlikely]] {
        std::lock_guard lock(wait_mutex_);
        available_.notify_one();
      }
      return;
    }
    entry.reset(raw);
  }
  give_back(std::move(entry), healthy);
}

Result<Output> WarmPool::call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input,
                              HostContext* context) {
  // The common case (the home shard's hot slot holds an instance) in line,
  // without a Result in between; each return hands its Result straight to
  // the caller's (no moves).
  const std::size_t home = home_shard();
  if (Entry* hot = shards_[home]->hot.exchange(nullptr, std::memory_order_acq_rel)) [[likely]] {
    hot->home = home;
    return call_leased(EntryPtr(hot), plugin, hook, input, context);
  }
  if (EntryPtr entry = take_idle()) {
    return call_leased(std::move(entry), plugin, hook, input, context);
  }
  auto made = acquire(plugin, hook);
  if (!made) {
    return std::move(made).error();
  }
  return call_leased(std::move(made).value(), plugin, hook, input, context);
}

Result<void> WarmPool::prewarm(const Plugin& plugin) {
  auto entry = acquire(plugin, Hook::Transform);  // the hook only labels errors
  if (!entry) {
    return std::move(entry).error();
  }
  give_back(std::move(entry).value(), /*healthy=*/true);
  return {};
}

Result<WarmPool::EntryPtr> WarmPool::acquire(const Plugin& plugin, Hook hook) {
  std::optional<std::chrono::steady_clock::time_point> deadline;  // read the clock only if we must wait
  for (;;) {
    if (EntryPtr entry = take_idle()) {
      return entry;
    }
    if (reserve_slot()) {
      auto created = create(plugin, hook);
      if (!created) {
        release_slot();
        return std::move(created).error();
      }
      count(created_);
      return std::move(created).value();
    }
    // Everything is busy: wait for a return (bounded) or refuse at once.
    bool timed_out = options_.acquire_timeout.count() == 0;
    if (!timed_out) {
      if (!deadline) {
        deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
      }
      std::unique_lock lock(wait_mutex_);
      waiters_.fetch_add(1, std::memory_order_acq_rel);
      timed_out = !available_.wait_until(lock, *deadline, [this] {
        return idle_count() != 0 || total_.load(std::memory_order_acquire) < options_.max_instances;
      });
      waiters_.fetch_sub(1, std::memory_order_acq_rel);
    }
    if (timed_out) {
      count(saturated_);
      if (const auto& metrics = engine_->config().metrics) {
        metrics->on_pool_saturated(plugin.name());
      }
      return Error{ErrorKind::PoolSaturated, Phase::Instantiate, plugin.name(), std::string(to_string(hook)),
                   "all " + std::to_string(options_.max_instances) + " warm instances are busy" +
                       (options_.acquire_timeout.count() > 0
                            ? " after waiting " + std::to_string(options_.acquire_timeout.count()) + " ms"
                            : std::string())};
    }
  }
}

Result<WarmPool::EntryPtr> WarmPool::create(const Plugin& plugin, Hook hook) {
  auto ready = make_ready_instance(*engine_, plugin, hook);
  if (!ready) {
    if (ready.error().kind == ErrorKind::PoolSaturated) {
      count(saturated_);
    }
    return std::move(ready).error();
  }
  return std::make_unique<Entry>(Entry{std::move(ready).value(), 0, home_shard()});
}

void WarmPool::give_back(EntryPtr entry, bool healthy) {
  bool keep = healthy && !draining_.load(std::memory_order_acquire);
  if (options_.recycle_after_calls != 0 && entry->calls >= options_.recycle_after_calls) {
    keep = false;
  }
  if (options_.recycle_memory_bytes != 0 && entry->instance().memory().size() > options_.recycle_memory_bytes) {
    keep = false;
  }
  if (keep) {
    Shard& shard = *shards_[entry->home];  // home_shard() < shards_.size()
    Entry* raw = entry.release();  // owned by the hot slot, or back in `entry`
    Entry* empty = nullptr;
    if (!shard.hot.compare_exchange_strong(empty, raw, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      entry.reset(raw);
      std::lock_guard lock(shard.mutex);
      shard.idle.push_back(std::move(entry));
    }
    if (waiters_.load(std::memory_order_acquire) != 0) {
      std::lock_guard lock(wait_mutex_);
      available_.notify_one();
    }
    return;
  }
  if (healthy) {
    retire(std::move(entry));
  } else {
    count(discarded_);
    entry.reset();  // frees the instance and its runtime slot before others are told
    release_slot();
  }
}

// The pool's slot is free at once (a replacement may be created while the
// old instance shuts down); its runtime slot stays with the instance until
// the Retirer destroys it.
void WarmPool::retire(EntryPtr entry) {
  count(retired_);
  engine_->retirer().retire(std::move(entry->ready), *this);
  release_slot();
}

void WarmPool::set_draining(bool draining) {
  draining_.store(draining, std::memory_order_release);
  if (!draining) {
    return;
  }
  while (EntryPtr idle = take_idle()) {
    retire(std::move(idle));
  }
}

}  // namespace wasmplug::detail
