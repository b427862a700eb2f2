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
  while (std::optional<Entry> entry = take_idle()) {
    out.push_back(std::move(entry->ready));
    release_slot();
  }
  return out;
}

std::size_t WarmPool::home_shard() const noexcept {
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0 : static_cast<std::size_t>(cpu) % shards_.size();
}

std::uint32_t WarmPool::idle_count() const {
  std::size_t idle = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    idle += shard->idle.size();
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

std::optional<WarmPool::Entry> WarmPool::take_idle() {
  const std::size_t home = home_shard();
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    Shard& shard = *shards_[(home + i) % shards_.size()];
    std::lock_guard lock(shard.mutex);
    if (!shard.idle.empty()) {
      Entry entry = std::move(shard.idle.back());
      shard.idle.pop_back();
      entry.home = home;
      return entry;
    }
  }
  return std::nullopt;
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

Result<Output> WarmPool::call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input,
                              HostContext* context) {
  auto entry = acquire(plugin, hook);
  if (!entry) {
    return std::move(entry).error();
  }
  bool healthy = false;
  Result<Output> out = call_kept_instance(entry->instance(), plugin, hook, input, context, healthy);
  ++entry->calls;
  give_back(std::move(entry).value(), healthy);
  return out;
}

Result<void> WarmPool::prewarm(const Plugin& plugin) {
  auto entry = acquire(plugin, Hook::Transform);  // the hook only labels errors
  if (!entry) {
    return std::move(entry).error();
  }
  give_back(std::move(entry).value(), /*healthy=*/true);
  return {};
}

Result<WarmPool::Entry> WarmPool::acquire(const Plugin& plugin, Hook hook) {
  std::optional<std::chrono::steady_clock::time_point> deadline;  // read the clock only if we must wait
  for (;;) {
    if (auto entry = take_idle()) {
      return std::move(*entry);
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

Result<WarmPool::Entry> WarmPool::create(const Plugin& plugin, Hook hook) {
  auto ready = make_ready_instance(*engine_, plugin, hook);
  if (!ready) {
    if (ready.error().kind == ErrorKind::PoolSaturated) {
      count(saturated_);
    }
    return std::move(ready).error();
  }
  return Entry{std::move(ready).value(), 0, home_shard()};
}

void WarmPool::give_back(Entry entry, bool healthy) {
  bool keep = healthy && !draining_.load(std::memory_order_acquire);
  if (options_.recycle_after_calls != 0 && entry.calls >= options_.recycle_after_calls) {
    keep = false;
  }
  if (options_.recycle_memory_bytes != 0 && entry.instance().memory().size() > options_.recycle_memory_bytes) {
    keep = false;
  }
  if (keep) {
    Shard& shard = *shards_[entry.home % shards_.size()];
    {
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
    entry = Entry{};  // frees the instance and its runtime slot before others are told
    release_slot();
  }
}

// The pool's slot is free at once (a replacement may be created while the
// old instance shuts down); its runtime slot stays with the instance until
// the Retirer destroys it.
void WarmPool::retire(Entry entry) {
  count(retired_);
  engine_->retirer().retire(std::move(entry.ready), *this);
  release_slot();
}

void WarmPool::set_draining(bool draining) {
  draining_.store(draining, std::memory_order_release);
  if (!draining) {
    return;
  }
  while (std::optional<Entry> idle = take_idle()) {
    retire(std::move(*idle));
  }
}

}  // namespace wasmplug::detail
