// WarmPool — a bounded set of ready instances of one plugin version, leased
// for one call at a time. Instances are created on demand (each runs
// _initialize and wp_init once), discarded after a failed call, retired
// (wp_shutdown) when recycled or when the pool is destroyed.
//
// Thread-safe. One mutex per pool, held only to pop or push an instance:
// threads calling different plugins never contend.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "dispatch/instance.hpp"
#include "wasmplug/error.hpp"
#include "wasmplug/plugin.hpp"
#include "wasmplug/runtime.hpp"

namespace wasmplug::detail {

class Engine;

class WarmPool {
 public:
  WarmPool(const Engine& engine, PoolOptions options) noexcept : engine_(&engine), options_(options) {}
  ~WarmPool();
  WarmPool(const WarmPool&) = delete;
  WarmPool& operator=(const WarmPool&) = delete;

  /// Lease → begin_call → ABI invoke → return (or discard). Prechecks (hook,
  /// input size) are the caller's.
  [[nodiscard]] Result<Output> call(const Plugin& plugin, Hook hook, std::span<const std::uint8_t> input);

  [[nodiscard]] PoolStats stats() const;

  /// Draining: idle instances are shut down now, busy ones when returned,
  /// and none are kept until draining is switched off again (a version that
  /// was swapped out, kept for rollback).
  void set_draining(bool draining) const;

 private:
  struct Entry {
    std::unique_ptr<Instance> instance;
    std::uint64_t calls = 0;
  };
  Result<Entry> acquire(const Plugin& plugin, Hook hook);
  Result<Entry> create(const Plugin& plugin, Hook hook);
  void give_back(Entry entry, bool healthy);
  void retire(Entry& entry) const;

  const Engine* engine_;
  PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  mutable std::vector<Entry> idle_;
  mutable bool draining_ = false;
  mutable std::uint32_t total_ = 0;  // idle + busy + being created
  mutable PoolStats stats_;
};

}  // namespace wasmplug::detail
