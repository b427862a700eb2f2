#include "isolation/session.hpp"

#include <utility>

#include "engine/engine.hpp"
#include "instance/plugin_code.hpp"
#include "isolation/kept_call.hpp"
#include "isolation/retirer.hpp"
#include "isolation/warm_pool.hpp"

namespace wasmplug::detail {

SessionCore::SessionCore(const Engine& engine, std::shared_ptr<const Plugin> plugin)
    : engine_(&engine), plugin_(std::move(plugin)) {}

Result<std::unique_ptr<SessionCore>> SessionCore::open(const Engine& engine, std::shared_ptr<const Plugin> plugin) {
  std::unique_ptr<SessionCore> session(new SessionCore(engine, std::move(plugin)));
  if (session->plugin_->code().pool == nullptr) {
    return session;  // fresh isolation: nothing is kept
  }
  if (auto made = session->instance(std::nullopt); !made) {
    return std::move(made).error();
  }
  return session;
}

Result<Instance*> SessionCore::instance(std::optional<Hook> hook) {
  if (!ready_) {
    auto ready = make_ready_instance(*engine_, *plugin_, hook);
    if (!ready) {
      return std::move(ready).error();
    }
    ready_ = std::move(ready).value();
    ++created_;
  }
  return ready_->instance.get();
}

// The Retirer needs the plugin's pool only to keep the plugin alive until
// the shutdown ran (WarmPool::begin_retiring); the instance never was the
// pool's, so the pool's counters do not see it.
SessionCore::~SessionCore() {
  if (ready_ && ready_->instance) {
    engine_->retirer().retire(std::move(*ready_), *plugin_->code().pool);
  }
}

Result<Output> SessionCore::invoke(Hook hook, std::span<const std::uint8_t> input) {
  WarmPool* pool = plugin_->code().pool.get();
  if (pool == nullptr) {
    return call_fresh(*engine_, *plugin_, hook, input, nullptr);
  }
  auto instance = this->instance(hook);
  if (!instance) {
    return std::move(instance).error();
  }
  bool healthy = false;
  Result<Output> out = call_kept_instance(**instance, *plugin_, hook, input, nullptr, healthy);
  if (!healthy) {
    ready_.reset();  // discarded without wp_shutdown, as the pool does: the guest may be mid-update
  }
  return out;
}

}  // namespace wasmplug::detail
