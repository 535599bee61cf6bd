#include "runtime/thread_pool.h"

#include <algorithm>

namespace nnc::runtime {

namespace {

/// True on pool workers, and on a calling thread while it runs its own chunk: a nested
/// parallelFor then runs inline instead of waiting for threads that are busy.
thread_local bool tInsideLoop = false;

int64_t chunkBegin(int64_t count, int64_t chunks, int64_t chunk) {
  // count * chunk cannot overflow for any count a buffer can hold.
  return count * chunk / chunks;
}

} // namespace

int defaultThreadCount() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

ThreadPool::ThreadPool(int threadCount) : threads_(std::max(threadCount, 1)) {
  try {
    workers_.reserve(static_cast<size_t>(threads_ - 1));
    for (int index = 1; index < threads_; ++index)
      workers_.emplace_back([this, index] { work(index); });
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_)
      worker.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_)
    worker.join();
}

void ThreadPool::parallelFor(int64_t count, const Body& body, int64_t grain) {
  if (count <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(threads_, count / grain);
  if (chunks <= 1 || tInsideLoop) {
    body(0, count);
    return;
  }

  std::lock_guard turn(turn_);
  {
    std::lock_guard lock(mutex_);
    body_ = &body;
    count_ = count;
    chunks_ = chunks;
    pending_ = chunks - 1;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();

  std::exception_ptr error;
  tInsideLoop = true;
  try {
    body(0, chunkBegin(count, chunks, 1));
  } catch (...) {
    error = std::current_exception();
  }
  tInsideLoop = false;

  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  body_ = nullptr;
  if (!error)
    error = error_;
  error_ = nullptr;
  lock.unlock();
  if (error)
    std::rethrow_exception(error);
}

void ThreadPool::work(int index) {
  tInsideLoop = true;
  uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_)
      return;
    seen = generation_;
    // A worker may sleep through a loop that had no chunk for it; it only ever takes part in
    // the current one.
    if (index >= chunks_)
      continue;
    const Body* body = body_;
    int64_t begin = chunkBegin(count_, chunks_, index);
    int64_t end = chunkBegin(count_, chunks_, index + 1);
    lock.unlock();
    std::exception_ptr error;
    try {
      (*body)(begin, end);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_)
      error_ = error;
    if (--pending_ == 0)
      done_.notify_one();
  }
}

} // namespace nnc::runtime
