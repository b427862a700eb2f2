// Retirer — shuts warm instances down (wp_shutdown) on its own thread, so
// that no caller waits for a guest's shutdown hook: instances retired by
// recycling, by draining a swapped-out version, and the idle instances of a
// plugin whose last reference went.
//
// Bounded: at most `capacity` instances wait for their wp_shutdown; each
// wp_shutdown runs under the plugin's deadline. An instance that finds the
// queue full, or arrives while the runtime shuts down, is dropped without
// its wp_shutdown (counted, and logged as a record of the plugin).
//
// Lifetimes: an Instance refers to its Plugin (and a pool entry to its
// WarmPool, owned by the Plugin). Plugins are owned through ReleasePlugin,
// which hands a plugin whose instances still need the retirer to the same
// queue, behind them: one thread takes jobs in order, so a plugin is
// destroyed only after every earlier job of its instances ran.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "isolation/fresh.hpp"
#include "wasmplug/plugin.hpp"

namespace wasmplug::detail {

class LogQueue;
class WarmPool;

class Retirer {
 public:
  Retirer(std::size_t capacity, LogQueue& logs);
  /// Drops what is still queued (without wp_shutdown) and stops the thread.
  ~Retirer();
  Retirer(const Retirer&) = delete;
  Retirer& operator=(const Retirer&) = delete;

  /// Takes a healthy instance leaving `pool` (whose Plugin the caller holds).
  /// Never runs guest code on the calling thread.
  void retire(ReadyInstance ready, WarmPool& pool);

  /// The last reference to `plugin` went: its idle warm instances are shut
  /// down on the retirer thread, then the plugin is destroyed there (or here,
  /// at once, when nothing of it needs the retirer).
  void release(const Plugin* plugin);

  /// The runtime is going away: queued instances are dropped without
  /// wp_shutdown, later ones at once. Returns when the queue is empty (after
  /// at most the wp_shutdown in progress, bounded by its deadline).
  void stop();

  /// Waits up to `timeout` until the queue is empty and no job runs. True
  /// when it is.
  [[nodiscard]] bool quiesce(std::chrono::milliseconds timeout);

 private:
  struct Job {
    ReadyInstance ready;                    // one instance to shut down ...
    WarmPool* pool = nullptr;               // ... leaving this pool
    std::unique_ptr<const Plugin> plugin;   // or: a plugin to release
    std::uint32_t shutdowns = 0;            // wp_shutdown calls the job counts for
  };
  // Everything the thread touches, so that it could finish even if the last
  // reference to the engine (and so this Retirer) were dropped by a job.
  struct Shared {
    std::size_t capacity = 0;
    LogQueue* logs = nullptr;
    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable idle;
    std::deque<Job> queue;
    std::size_t pending_shutdowns = 0;  // wp_shutdown calls queued
    bool busy = false;
    bool stopping = false;
    bool exit = false;
    std::uint64_t dropped = 0;  // instances dropped without wp_shutdown
  };
  static void run(const std::shared_ptr<Shared>& shared);
  static void process(Shared& shared, Job& job, bool stopping);
  /// Counts and logs instances of `plugin` dropped without their wp_shutdown.
  static void report_dropped(Shared& shared, const Plugin& plugin, std::uint64_t count, bool stopping);

  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

/// The deleter of every Plugin a Runtime hands out: passes it to its engine's
/// Retirer (see Retirer::release).
struct ReleasePlugin {
  void operator()(const Plugin* plugin) const noexcept;
};

}  // namespace wasmplug::detail
