#include "dispatch/warm_pool.hpp"

#include <string>

#include "abi/abi.hpp"
#include "engine/engine.hpp"

namespace wasmplug::detail {

namespace {

// A failed call may have left the guest in any state (trap mid-update,
// half-written buffers), so its instance is discarded. Errors raised before
// the guest was entered leave it untouched.
bool instance_untouched_by(const Error& error) {
  return error.kind == ErrorKind::InvalidArgument ||
         (error.kind == ErrorKind::LimitExceeded && error.phase == Phase::Write);
}

}  // namespace

WarmPool::~WarmPool() {
  // No call can be in flight: every call holds a reference to the Plugin
  // that owns this pool.
  for (Entry& entry : idle_) {
    retire(entry);
  }
}

PoolStats WarmPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats s = stats_;
  s.idle = static_cast<std::uint32_t>(idle_.size());
  s.busy = total_ - s.idle;
  return s;
}

Result<Output> WarmPool::call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input) {
  auto entry = acquire(plugin, hook);
  if (!entry) {
    return std::move(entry).error();
  }
  entry->instance->begin_call(hook);
  Result<Output> out = abi_invoke(*entry->instance, hook, input, /*keep_instance=*/true);
  ++entry->calls;
  give_back(std::move(entry).value(), out.ok() || instance_untouched_by(out.error()));
  return out;
}

Result<WarmPool::Entry> WarmPool::acquire(const Plugin& plugin, Hook hook) {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (!idle_.empty()) {
      Entry entry = std::move(idle_.back());
      idle_.pop_back();
      return entry;
    }
    if (total_ < options_.max_instances) {
      ++total_;
      lock.unlock();
      auto created = create(plugin, hook);
      if (!created) {
        lock.lock();
        --total_;
        if (created.error().kind == ErrorKind::PoolSaturated) {
          ++stats_.saturated;
        }
        available_.notify_one();
        return std::move(created).error();
      }
      lock.lock();
      ++stats_.created;
      return std::move(created).value();
    }
    if (options_.acquire_timeout.count() == 0 ||
        available_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (!idle_.empty() || total_ < options_.max_instances) {
        continue;  // freed just as the wait ended
      }
      ++stats_.saturated;
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
  if (!engine_->slots().try_acquire()) {
    if (const auto& metrics = engine_->config().metrics) {
      metrics->on_pool_saturated(plugin.name());
    }
    return Error{ErrorKind::PoolSaturated, Phase::Instantiate, plugin.name(), std::string(to_string(hook)),
                 "all " + std::to_string(engine_->slots().capacity()) + " instance slots of the runtime are in use"};
  }
  auto instance = Instance::create(*engine_, plugin, hook);
  if (!instance) {
    engine_->slots().release();
    return std::move(instance).error();
  }
  if (const auto& metrics = engine_->config().metrics) {
    metrics->on_instantiate(plugin.name());
  }
  if (auto init = abi_initialize(**instance); !init) {
    // A failing init rejects this instance; its error (with the guest's
    // message) goes to the caller.
    engine_->slots().release();
    return std::move(init).error();
  }
  return Entry{std::move(instance).value(), 0};
}

void WarmPool::give_back(Entry entry, bool healthy) {
  bool recycle = options_.recycle_after_calls != 0 && entry.calls >= options_.recycle_after_calls;
  if (options_.recycle_memory_bytes != 0 && entry.instance->memory().size() > options_.recycle_memory_bytes) {
    recycle = true;
  }
  if (healthy && !recycle) {
    std::lock_guard lock(mutex_);
    if (!draining_) {
      idle_.push_back(std::move(entry));
      available_.notify_one();
      return;
    }
    recycle = true;
  }
  if (healthy) {
    retire(entry);
  } else {
    entry.instance.reset();
    engine_->slots().release();
  }
  std::lock_guard lock(mutex_);
  --total_;
  ++(healthy ? stats_.retired : stats_.discarded);
  available_.notify_one();
}

void WarmPool::set_draining(bool draining) const {
  std::vector<Entry> retiring;
  {
    std::lock_guard lock(mutex_);
    draining_ = draining;
    if (draining) {
      retiring.swap(idle_);
      total_ -= static_cast<std::uint32_t>(retiring.size());
      stats_.retired += retiring.size();
    }
  }
  for (Entry& entry : retiring) {
    retire(entry);
  }
}

void WarmPool::retire(Entry& entry) const {
  entry.instance->begin_call(std::nullopt);
  if (auto done = abi_shutdown(*entry.instance); !done) {
    if (const auto& sink = engine_->config().log_sink) {
      std::string message = "wp_shutdown failed: " + done.error().to_string();
      sink(LogRecord{entry.instance->plugin().name(), LogLevel::Warn, message});
    }
  }
  entry.instance.reset();
  engine_->slots().release();
}

}  // namespace wasmplug::detail
