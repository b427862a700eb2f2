#include "pipeline.hpp"

namespace wasmplug::cli {

WorkerPool::WorkerPool(std::uint32_t threads, Work work) : work_(std::move(work)) {
  threads_.reserve(threads);
  for (std::uint32_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { work_loop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  queued_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
}

void WorkerPool::submit(Batch& batch) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&batch);
  }
  queued_.notify_one();
}

void WorkerPool::wait(const Batch& batch) {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [&] { return batch.done; });
}

void WorkerPool::work_loop() {
  Scratch scratch;
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [&] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // closing, and nothing left
    }
    Batch* batch = queue_.front();
    queue_.pop_front();
    lock.unlock();
    work_(*batch, scratch);
    lock.lock();
    batch->done = true;
    // Every waiter wakes: only the writer waits, on the oldest batch.
    finished_.notify_all();
  }
}

}  // namespace wasmplug::cli
