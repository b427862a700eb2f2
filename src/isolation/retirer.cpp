#include "isolation/retirer.hpp"

#include <string>
#include <utility>

#include "abi/abi.hpp"
#include "instance/instance.hpp"
#include "instance/plugin_code.hpp"
#include "isolation/warm_pool.hpp"
#include "engine/engine.hpp"
#include "engine/log_queue.hpp"

namespace wasmplug::detail {

namespace {

// begin_call re-arms the deadline: a wp_shutdown that loops ends with
// Timeout after the plugin's deadline, on this thread only.
void shut_down_instance(Instance& instance, LogQueue& logs) {
  instance.begin_call(std::nullopt);
  if (auto done = abi_shutdown(instance); !done) {
    logs.push(instance.plugin().name(), LogLevel::Warn, "wp_shutdown failed: " + done.error().to_string());
  }
}

}  // namespace

Retirer::Retirer(std::size_t capacity, LogQueue& logs) : shared_(std::make_shared<Shared>()) {
  shared_->capacity = capacity;
  shared_->logs = &logs;
  thread_ = std::thread([shared = shared_] { run(shared); });
}

Retirer::~Retirer() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    shared_->exit = true;
  }
  shared_->wake.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    // A job dropped the last reference to the engine: the thread finishes
    // that job and exits on its own, touching only the shared state.
    thread_.detach();
  } else {
    thread_.join();
  }
}

void Retirer::report_dropped(Shared& shared, const Plugin& plugin, std::uint64_t count, bool stopping) {
  std::uint64_t total = 0;
  {
    std::lock_guard lock(shared.mutex);
    shared.dropped += count;
    total = shared.dropped;
  }
  shared.logs->push(plugin.name(), LogLevel::Warn,
                    std::to_string(count) + " instance(s) dropped without wp_shutdown: " +
                        (stopping ? std::string("the runtime is shutting down")
                                  : "the retirement queue (" + std::to_string(shared.capacity) +
                                        " instances) is full") +
                        " (" + std::to_string(total) + " so far)");
}

void Retirer::retire(ReadyInstance ready, WarmPool& pool) {
  bool stopping = false;
  {
    std::lock_guard lock(shared_->mutex);
    stopping = shared_->stopping;
    if (!stopping && shared_->pending_shutdowns < shared_->capacity) {
      pool.begin_retiring();
      ++shared_->pending_shutdowns;
      shared_->queue.push_back(Job{std::move(ready), &pool, nullptr, 1});
      shared_->wake.notify_one();
      return;
    }
  }
  // Dropping an instance runs no guest code: cheap enough for the caller.
  const Plugin& plugin = ready.instance->plugin();
  ready = ReadyInstance{};
  report_dropped(*shared_, plugin, 1, stopping);
}

void Retirer::release(const Plugin* plugin) {
  WarmPool* pool = plugin->code().pool.get();
  const std::uint32_t idle = pool != nullptr ? pool->idle_instances() : 0;
  // Nothing of this plugin is queued (acquire: the last job of its pool has
  // finished with it) and nothing needs shutting down: destroy it here.
  if (pool == nullptr || (idle == 0 && pool->retiring() == 0)) {
    delete plugin;  // NOLINT(cppcoreguidelines-owning-memory): the shared_ptr deleter
    return;
  }
  bool stopping = false;
  {
    std::lock_guard lock(shared_->mutex);
    stopping = shared_->stopping;
    const bool shut_down = !stopping && shared_->pending_shutdowns + idle <= shared_->capacity;
    // Queued instances of this plugin still refer to it: it must wait behind
    // them even when its own idle instances cannot be shut down.
    if (shut_down || pool->retiring() != 0) {
      const std::uint32_t shutdowns = shut_down ? idle : 0;
      shared_->pending_shutdowns += shutdowns;
      shared_->queue.push_back(Job{{}, nullptr, std::unique_ptr<const Plugin>(plugin), shutdowns});
      shared_->wake.notify_one();
      return;
    }
  }
  report_dropped(*shared_, *plugin, idle, stopping);
  delete plugin;  // NOLINT(cppcoreguidelines-owning-memory): its pool drops the idle instances unshut
}

void Retirer::process(Shared& shared, Job& job, bool stopping) {
  if (job.pool != nullptr) {
    if (!stopping) {
      shut_down_instance(*job.ready.instance, *shared.logs);
    } else {
      report_dropped(shared, job.ready.instance->plugin(), 1, true);
    }
    job.ready = ReadyInstance{};  // the instance and its runtime slot go first
    job.pool->end_retiring();
    return;
  }
  WarmPool& pool = *job.plugin->code().pool;
  std::vector<ReadyInstance> idle = pool.take_idle_instances();
  const bool shut_down = job.shutdowns != 0 && !stopping;
  if (!shut_down && !idle.empty()) {
    report_dropped(shared, *job.plugin, idle.size(), stopping);
  }
  for (ReadyInstance& ready : idle) {
    if (shut_down) {
      shut_down_instance(*ready.instance, *shared.logs);
    }
    ready = ReadyInstance{};
  }
  idle.clear();
  job.plugin.reset();
}

void Retirer::run(const std::shared_ptr<Shared>& shared) {
  std::unique_lock lock(shared->mutex);
  for (;;) {
    shared->wake.wait(lock, [&] { return shared->exit || !shared->queue.empty(); });
    if (shared->queue.empty()) {
      return;  // exit requested and nothing left
    }
    Job job = std::move(shared->queue.front());
    shared->queue.pop_front();
    shared->busy = true;
    const bool stopping = shared->stopping;
    const std::uint32_t shutdowns = job.shutdowns;
    lock.unlock();
    process(*shared, job, stopping);
    job = Job{};  // may destroy a plugin (and, at worst, the engine owning the Retirer)
    lock.lock();
    shared->pending_shutdowns -= shutdowns;
    shared->busy = false;
    shared->idle.notify_all();
  }
}

void Retirer::stop() {
  std::unique_lock lock(shared_->mutex);
  shared_->stopping = true;
  shared_->wake.notify_all();
  shared_->idle.wait(lock, [this] { return shared_->queue.empty() && !shared_->busy; });
}

bool Retirer::quiesce(std::chrono::milliseconds timeout) {
  std::unique_lock lock(shared_->mutex);
  return shared_->idle.wait_for(lock, timeout, [this] { return shared_->queue.empty() && !shared_->busy; });
}

void ReleasePlugin::operator()(const Plugin* plugin) const noexcept {
  // Held until release() returns: destroying the plugin may drop the last
  // other reference to the engine that owns the Retirer.
  std::shared_ptr<const Engine> engine = plugin->code().engine;
  engine->retirer().release(plugin);
}

}  // namespace wasmplug::detail
