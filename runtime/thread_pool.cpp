#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nnc::runtime {

namespace {

/// True on pool workers, and on a calling thread while it runs its own chunk: a nested
/// parallelFor then runs inline instead of waiting for threads that are busy.
thread_local bool tInsideLoop = false;

int64_t chunkBegin(int64_t count, int64_t chunks, int64_t chunk) {
  // count * chunk cannot overflow for any count a buffer can hold.
  return count * chunk / chunks;
}

/// How long a thread spins on a condition before it sleeps: longer than the gap between two
/// layers of a network (so the workers are awake for the next one), short enough that an idle
/// pool gives its cores back at once.
constexpr auto kSpin = std::chrono::microseconds(100);

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

/// Spins until `ready()` or kSpin has passed; returns ready().
template <typename Ready> bool spinUntil(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (ready())
      return true;
    relax();
    if (i % 64 == 63 && std::chrono::steady_clock::now() > deadline)
      return ready();
  }
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
    // Under the mutex, so that a worker between its check and its sleep cannot miss the loop.
    std::lock_guard lock(mutex_);
    body_.store(&body, std::memory_order_relaxed);
    count_.store(count, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    // Every worker reports back, also those without a chunk: none may still be reading this
    // loop's fields when the next loop writes them.
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);
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

  waitForWorkers();
  std::lock_guard lock(mutex_);
  body_.store(nullptr, std::memory_order_relaxed);
  if (!error)
    error = error_;
  error_ = nullptr;
  if (error)
    std::rethrow_exception(error);
}

void ThreadPool::waitForWorkers() {
  auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (spinUntil(finished))
    return;
  std::unique_lock lock(mutex_);
  done_.wait(lock, finished);
}

void ThreadPool::work(int index) {
  tInsideLoop = true;
  uint64_t seen = 0;
  for (;;) {
    auto handedOut = [&] {
      return stop_.load(std::memory_order_relaxed) ||
             generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spinUntil(handedOut)) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, handedOut);
    }
    if (stop_.load(std::memory_order_relaxed))
      return;
    seen = generation_.load(std::memory_order_acquire);
    int64_t chunks = chunks_.load(std::memory_order_relaxed);
    if (index < chunks) {
      const Body* body = body_.load(std::memory_order_relaxed);
      int64_t count = count_.load(std::memory_order_relaxed);
      std::exception_ptr error;
      try {
        (*body)(chunkBegin(count, chunks, index), chunkBegin(count, chunks, index + 1));
      } catch (...) {
        error = std::current_exception();
      }
      if (error) {
        std::lock_guard lock(mutex_);
        if (!error_)
          error_ = error;
      }
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Under the mutex: the caller may be between its check and its sleep.
      std::lock_guard lock(mutex_);
      done_.notify_one();
    }
  }
}

} // namespace nnc::runtime
