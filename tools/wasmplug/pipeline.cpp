#include "pipeline.hpp"

namespace wasmplug::cli {

WorkerPool::WorkerPool(std::uint32_t threads, Work work) : work_(std::move(work)) {
  const std::uint32_t workers = threads > 1 ? threads - 1 : 0;
  threads_.reserve(workers);
  for (std::uint32_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this] { work_loop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    queue_.clear();
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

void WorkerPool::process(Batch& batch, Scratch& scratch, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  // work_ fails records, not batches; what still escapes it (an allocation
  // failure while storing a result) fails the batch's unprocessed records, and
  // the batch is marked done either way so that its waiter never hangs and no
  // worker outlives a batch it was given.
  try {
    work_(batch, scratch);
  } catch (...) {
    for (Item& item : batch.items) {
      if (item.state == Item::State::Pending) {
        item.state = Item::State::Failed;
        // Short enough for the strings' inline buffers: no allocation here.
        item.kind = "InternalError";
        item.phase = "call";
        item.message = "host failure";
      }
    }
  }
  lock.lock();
  batch.done = true;
  // Every waiter wakes: only the writer waits, on the oldest batch.
  finished_.notify_all();
}

void WorkerPool::wait(const Batch& batch) {
  std::unique_lock lock(mutex_);
  // Help rather than sleep: any queued batch is progress towards `batch` (it
  // is either queued or running), and with one thread this is the only place
  // batches are processed. Sleep only while `batch` is on a worker.
  while (!batch.done) {
    if (!process_next(caller_scratch_, lock)) {
      finished_.wait(lock, [&] { return batch.done || !queue_.empty(); });
    }
  }
}

bool WorkerPool::done(const Batch& batch) {
  std::lock_guard lock(mutex_);
  return batch.done;
}

bool WorkerPool::help_one() {
  std::unique_lock lock(mutex_);
  return process_next(caller_scratch_, lock);
}

bool WorkerPool::process_next(Scratch& scratch, std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) {
    return false;
  }
  Batch* next = queue_.front();
  queue_.pop_front();
  process(*next, scratch, lock);
  return true;
}

void WorkerPool::work_loop() {
  Scratch scratch;
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [&] { return closing_ || !queue_.empty(); });
    if (!process_next(scratch, lock)) {
      return;  // closing, and nothing left
    }
  }
}

}  // namespace wasmplug::cli
