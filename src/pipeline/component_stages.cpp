// Pipeline stages backed by torvyn components (wasmplug/torvyn.hpp), through
// the component host's public API only. An Instance is single-threaded: the
// source and the sink each own one (they run on one thread each); a
// processor keeps a small pool, one instance per worker thread at most.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "pipeline/errors.hpp"
#include "wasmplug/pipeline.hpp"

namespace wasmplug::pipeline {

namespace {

using torvyn::Backpressure;
using torvyn::Component;
using torvyn::Element;
using torvyn::Instance;
using torvyn::ProcessErrorCase;
using torvyn::World;

/// A source that keeps failing every pull is broken, not unlucky: after
/// this many failures in a row it ends the pipeline with the last error.
constexpr std::uint32_t kMaxConsecutivePullFailures = 1000;

Error wrong_world(const Component& component, std::string_view wanted) {
  return Error{ErrorKind::InvalidArgument, Phase::Config, component.name(), "",
               "component '" + component.name() + "' has world " + std::string(torvyn::to_string(component.world())) +
                   "; this stage needs " + std::string(wanted),
               TrapCode::None};
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// A record no component typed goes in as plain bytes.
std::string_view content_type_or_default(std::string_view type) {
  return type.empty() ? std::string_view("application/octet-stream") : type;
}

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string_view text_of(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

class ComponentSource final : public Source {
 public:
  explicit ComponentSource(std::unique_ptr<Instance> instance) : instance_(std::move(instance)) {}

  Result<PullStatus> pull(RecordBatch& batch, std::size_t max_records, std::size_t max_bytes) override {
    if (!instance_) {
      return PullStatus::End;
    }
    if (paused_) {
      backpressure(false);  // the guest refuses pulls while paused
    }
    while (batch.size() < max_records && batch.byte_size() < max_bytes) {
      if (interrupted_.load(std::memory_order_relaxed)) {
        finish();
        return PullStatus::End;
      }
      Result<std::optional<torvyn::EmittedView>> pulled = instance_->pull_view();
      if (pulled) {
        failures_in_a_row_ = 0;
        const std::optional<torvyn::EmittedView>& element = *pulled;
        if (!element.has_value()) {
          finish();  // none: the source is exhausted
          return PullStatus::End;
        }
        batch.add(text_of(element->payload), next_sequence_++);
        batch.set_content_type(batch.size() - 1, element->content_type);
        continue;
      }
      Error e = std::move(pulled).error();
      if (instance_->last_process_error() == ProcessErrorCase::Fatal || !instance_->usable()) {
        finish();
        e.message = "the source component returned fatal: " + e.message;
        return e;
      }
      if (e.kind == ErrorKind::Tripped) {
        // The breaker is open: wait for its cooldown (in short steps, to notice interrupt()).
        if (!batch.empty()) {
          return PullStatus::Records;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (++failures_in_a_row_ >= kMaxConsecutivePullFailures) {
        finish();
        e.message = "the source component failed " + std::to_string(failures_in_a_row_) +
                    " pulls in a row; the last: " + e.message;
        return e;
      }
      // A pull that failed is a record that failed: it is counted and dead-lettered.
      batch.add_failed("", 0, next_sequence_++, record_error("source", e));
    }
    return PullStatus::Records;
  }

  void backpressure(bool paused) override {
    if (!instance_ || paused == paused_) {
      return;
    }
    paused_ = paused;
    // notify-backpressure returns nothing; a trap restarts the instance on its next call.
    static_cast<void>(instance_->notify_backpressure(paused ? Backpressure::Pause : Backpressure::Ready));
  }

  void interrupt() noexcept override { interrupted_.store(true, std::memory_order_relaxed); }

 private:
  void finish() {
    if (instance_ && instance_->usable()) {
      // A failing teardown is logged by the component host and never holds the pipeline up.
      static_cast<void>(instance_->teardown());
    }
    instance_.reset();
  }

  std::unique_ptr<Instance> instance_;
  std::uint64_t next_sequence_ = 0;
  std::uint32_t failures_in_a_row_ = 0;
  bool paused_ = false;
  std::atomic<bool> interrupted_{false};
};

class ComponentProcessor final : public Processor {
 public:
  ComponentProcessor(std::shared_ptr<const Component> component, std::unique_ptr<Instance> first)
      : component_(std::move(component)) {
    idle_.push_back(std::move(first));
  }

  Result<Verdict> process(std::string_view record, std::string& out) const override {
    RecordMeta meta;
    meta.position = sequence_.fetch_add(1, std::memory_order_relaxed);
    return process_record(record, meta, out);
  }

  // The element gets the record's content type and the source's position as
  // its sequence; an emitted element's content type carries on.
  Result<Verdict> process_record(std::string_view record, RecordMeta& meta, std::string& out) const override {
    if (fatal_.load(std::memory_order_acquire)) {
      return fatal_error();
    }
    std::unique_ptr<Instance> instance = acquire();
    if (!instance) {
      auto made = component_->instantiate();
      if (!made) {
        return std::move(made).error();
      }
      instance = std::move(made).value();
    }
    Element element;
    element.payload = bytes_of(record);
    element.content_type = content_type_or_default(meta.content_type);
    element.sequence = meta.position;
    element.timestamp_ns = now_ns();
    Result<std::optional<torvyn::EmittedView>> result = instance->process_view(element);
    if (!result) {
      Error e = std::move(result).error();
      if (instance->last_process_error() == ProcessErrorCase::Fatal) {
        on_fatal(e);
        return e;
      }
      release(std::move(instance));
      return e;
    }
    Verdict verdict = Verdict::Drop;
    if (const std::optional<torvyn::EmittedView>& emitted = *result; emitted.has_value()) {
      out.append(text_of(emitted->payload));
      meta.content_type.assign(emitted->content_type);
      verdict = Verdict::Emit;
    }
    release(std::move(instance));
    return verdict;
  }

 private:
  std::unique_ptr<Instance> acquire() const {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) {
      return nullptr;
    }
    std::unique_ptr<Instance> instance = std::move(idle_.back());
    idle_.pop_back();
    return instance;
  }

  void release(std::unique_ptr<Instance> instance) const {
    std::lock_guard lock(mutex_);
    if (!fatal_.load(std::memory_order_relaxed)) {
      idle_.push_back(std::move(instance));
    }
  }

  // torvyn: after fatal the component is out of the pipeline. The instance
  // that said it was torn down by the host; the idle ones are torn down
  // here; instances busy on other threads come back and are dropped.
  void on_fatal(const Error& e) const {
    std::vector<std::unique_ptr<Instance>> idle;
    {
      std::lock_guard lock(mutex_);
      if (fatal_.load(std::memory_order_relaxed)) {
        return;
      }
      fatal_message_ = e.message;
      fatal_.store(true, std::memory_order_release);
      idle.swap(idle_);
    }
    idle.clear();  // teardown runs in the destructors, outside the lock
  }

  Error fatal_error() const {
    std::lock_guard lock(mutex_);
    return Error{ErrorKind::GuestError, Phase::Call, component_->name(), "process",
                 "the component returned fatal earlier (" + fatal_message_ +
                     "); it is out of the pipeline and gets no more records",
                 TrapCode::None};
  }

  std::shared_ptr<const Component> component_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Instance>> idle_;
  mutable std::string fatal_message_;
  mutable std::atomic<bool> fatal_{false};
  mutable std::atomic<std::uint64_t> sequence_{0};
};

class ComponentSink final : public Sink {
 public:
  ComponentSink(std::unique_ptr<Instance> instance, std::chrono::milliseconds pause)
      : instance_(std::move(instance)), pause_(pause) {}

  ~ComponentSink() override {
    if (instance_ && instance_->usable()) {
      static_cast<void>(instance_->teardown());
    }
  }

  Result<SinkStatus> push(const RecordBatch& batch) override {
    // Without a mutable batch a record's failure cannot be recorded alone: it fails the push.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch.entry(i).outcome != Outcome::Out) {
        continue;
      }
      auto pushed = instance_->push(element_of(batch, i));
      if (!pushed) {
        return std::move(pushed).error();
      }
    }
    return SinkStatus::Ready;
  }

  Result<SinkStatus> push_records(RecordBatch& batch) override {
    batch_ = &batch;
    next_ = 0;
    return push_from_next();
  }

  Result<SinkStatus> wait_ready(std::chrono::milliseconds wait) override {
    // The component said pause: hold the next push back. Meanwhile the
    // pipeline's batches pile up behind this one and the source stops.
    if (wait < pause_left_) {
      std::this_thread::sleep_for(wait);
      pause_left_ -= wait;
      return SinkStatus::Pause;
    }
    std::this_thread::sleep_for(pause_left_);
    return push_from_next();
  }

  Result<void> complete() override {
    if (!instance_) {
      return {};
    }
    Result<void> done = instance_->usable() ? instance_->complete() : Result<void>();
    if (instance_->usable()) {
      static_cast<void>(instance_->teardown());  // logged by the host when it fails; never blocks
    }
    instance_.reset();
    return done;
  }

 private:
  Element element_of(const RecordBatch& batch, std::size_t i) {
    Element element;
    element.payload = bytes_of(batch.record(i));
    element.content_type = content_type_or_default(batch.content_type(i));
    element.sequence = batch.entry(i).position;
    element.timestamp_ns = now_ns();
    return element;
  }

  Result<SinkStatus> push_from_next() {
    RecordBatch& batch = *batch_;
    while (next_ < batch.size()) {
      const std::size_t i = next_++;
      if (batch.entry(i).outcome != Outcome::Out) {
        continue;
      }
      Result<Backpressure> pushed = instance_->push(element_of(batch, i));
      if (!pushed) {
        Error e = std::move(pushed).error();
        if (instance_->last_process_error() == ProcessErrorCase::Fatal || !instance_->usable()) {
          e.message = "the sink component returned fatal: " + e.message;
          return e;  // the pipeline stops; what was not accepted counts failed
        }
        batch.fail(i, record_error("sink", e));
        continue;
      }
      if (*pushed == Backpressure::Pause) {
        pause_left_ = pause_;
        return SinkStatus::Pause;
      }
    }
    return SinkStatus::Ready;
  }

  std::unique_ptr<Instance> instance_;
  std::chrono::milliseconds pause_;
  std::chrono::milliseconds pause_left_{0};
  RecordBatch* batch_ = nullptr;
  std::size_t next_ = 0;
};

}  // namespace

Result<std::unique_ptr<Source>> make_component_source(const std::shared_ptr<const Component>& component) {
  if (!component) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, "", "", "make_component_source: no component",
                 TrapCode::None};
  }
  if (component->world() != World::DataSource) {
    return wrong_world(*component, "data-source");
  }
  auto instance = component->instantiate();
  if (!instance) {
    return std::move(instance).error();
  }
  return std::unique_ptr<Source>(std::make_unique<ComponentSource>(std::move(instance).value()));
}

Result<std::unique_ptr<Processor>> make_component_processor(std::shared_ptr<const Component> component) {
  if (!component) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, "", "", "make_component_processor: no component",
                 TrapCode::None};
  }
  if (component->world() != World::Transform && component->world() != World::ManagedTransform) {
    return wrong_world(*component, "transform or managed-transform");
  }
  auto instance = component->instantiate();
  if (!instance) {
    return std::move(instance).error();
  }
  return std::unique_ptr<Processor>(
      std::make_unique<ComponentProcessor>(std::move(component), std::move(instance).value()));
}

Result<std::unique_ptr<Sink>> make_component_sink(const std::shared_ptr<const Component>& component,
                                                  std::chrono::milliseconds pause) {
  if (!component) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, "", "", "make_component_sink: no component",
                 TrapCode::None};
  }
  if (component->world() != World::DataSink) {
    return wrong_world(*component, "data-sink");
  }
  if (pause.count() < 1 || pause.count() > 60'000) {
    return Error{ErrorKind::InvalidArgument, Phase::Config, component->name(), "",
                 "make_component_sink: pause must be 1..60000 ms, got " + std::to_string(pause.count()),
                 TrapCode::None};
  }
  auto instance = component->instantiate();
  if (!instance) {
    return std::move(instance).error();
  }
  return std::unique_ptr<Sink>(std::make_unique<ComponentSink>(std::move(instance).value(), pause));
}

}  // namespace wasmplug::pipeline
