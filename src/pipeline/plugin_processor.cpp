// A processor that calls one hook of a plugin through the public Runtime API
// (any profile with a bytes-in/bytes-out or keep/drop hook): the plugin's
// shared pool, or (Instances::PerFlow) a Session of its own per open flow.
#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

namespace {

Result<Verdict> verdict_of(Result<Output> result, std::string& out) {
  if (!result) {
    return std::move(result).error();
  }
  switch (result->kind) {
    case Output::Kind::Bytes: out.append(result->text()); return Verdict::Emit;
    case Output::Kind::Keep: return Verdict::Keep;
    case Output::Kind::Drop: return Verdict::Drop;
    case Output::Kind::Done: return Verdict::Keep;  // observe: the record passes on
  }
  return Verdict::Keep;
}

std::span<const std::uint8_t> bytes_of(std::string_view record) {
  return {reinterpret_cast<const std::uint8_t*>(record.data()), record.size()};
}

class PluginProcessor final : public Processor {
 public:
  PluginProcessor(const Runtime& runtime, std::shared_ptr<const Plugin> plugin, Hook hook, Instances instances)
      : runtime_(runtime), plugin_(std::move(plugin)), hook_(hook), instances_(instances) {}

  Result<Verdict> process(std::string_view record, std::string& out) const override {
    return verdict_of(runtime_.call(*plugin_, hook_, bytes_of(record)), out);
  }

  Result<Verdict> process_record(std::string_view record, RecordMeta& meta, std::string& out) const override {
    const std::uint32_t flow = meta.flow;
    // No flow open (file sources, Shared): no lock on the way to the pool.
    if (open_flows_.load(std::memory_order_acquire) == 0) {
      return process(record, out);
    }
    std::shared_ptr<Flow> state;
    {
      std::lock_guard lock(flows_mutex_);
      if (auto it = flows_.find(flow); it != flows_.end()) {
        state = it->second;
      }
    }
    if (!state) {
      return process(record, out);
    }
    // One Session serves one call at a time; the workers holding records
    // of this flow take turns.
    std::lock_guard lock(state->mutex);
    if (!state->session) {
      // The open failed (no instance slot left, init refused): try again,
      // and fail this record with the reason while it cannot.
      auto session = runtime_.open_session(plugin_);
      if (!session) {
        return std::move(session).error();
      }
      state->session = std::move(session).value();
    }
    return verdict_of(state->session->call(hook_, bytes_of(record)), out);
  }

  void open_flow(std::uint32_t flow) override {
    if (instances_ != Instances::PerFlow) {
      return;
    }
    auto state = std::make_shared<Flow>();
    // Made here, not on the first record, so that the instance's wp_init
    // runs when the partition is assigned. A failure is retried per record.
    if (auto session = runtime_.open_session(plugin_); session) {
      state->session = std::move(session).value();
    }
    std::lock_guard lock(flows_mutex_);
    if (flows_.insert_or_assign(flow, std::move(state)).second) {
      open_flows_.fetch_add(1, std::memory_order_release);
    }
  }

  void close_flow(std::uint32_t flow) override {
    std::shared_ptr<Flow> state;
    {
      std::lock_guard lock(flows_mutex_);
      auto it = flows_.find(flow);
      if (it == flows_.end()) {
        return;
      }
      state = std::move(it->second);
      flows_.erase(it);
      open_flows_.fetch_sub(1, std::memory_order_release);
    }
    // No record of the flow is being processed (the pipeline's promise):
    // the session goes here, its instance to the retirer for wp_shutdown.
  }

 private:
  struct Flow {
    std::mutex mutex;
    std::unique_ptr<Session> session;  // guarded by mutex
  };

  const Runtime& runtime_;
  std::shared_ptr<const Plugin> plugin_;
  Hook hook_;
  Instances instances_;
  mutable std::mutex flows_mutex_;
  std::unordered_map<std::uint32_t, std::shared_ptr<Flow>> flows_;  // guarded by flows_mutex_
  std::atomic<std::size_t> open_flows_{0};
};

}  // namespace

std::unique_ptr<Processor> make_plugin_processor(const Runtime& runtime, std::shared_ptr<const Plugin> plugin,
                                                 Hook hook, Instances instances) {
  return std::make_unique<PluginProcessor>(runtime, std::move(plugin), hook, instances);
}

}  // namespace wasmplug::pipeline
