// A fixed set of worker threads that run the chunks of a parallel loop with the calling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nnc::runtime {

/// std::thread::hardware_concurrency(), at least 1.
int defaultThreadCount();

/// A pool of `threads() - 1` worker threads; the thread that calls parallelFor is the last one.
class ThreadPool {
public:
  using Body = std::function<void(int64_t begin, int64_t end)>;

  /// `threadCount` includes the calling thread: 1 (or less) starts no worker and every loop runs
  /// inline.
  explicit ThreadPool(int threadCount);
  /// Joins the workers. No parallelFor may be running.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  /// Runs `body` over [0, count) split into contiguous chunks [begin, end), at most one per
  /// thread and each of at least `grain` items (so a count below 2 * grain is not split); chunk
  /// 0 runs on the calling thread. Returns when every chunk is done; the first exception a chunk
  /// threw is then rethrown here. A parallelFor called from inside a chunk (of any pool) runs
  /// inline; calls from several outside threads at once take turns.
  void parallelFor(int64_t count, const Body& body, int64_t grain = 1);

private:
  void work(int index);
  /// Waits until pending_ is 0: spinning first, then on done_.
  void waitForWorkers();

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex turn_; ///< one parallelFor at a time
  // Workers and the caller spin for a while (kSpin in thread_pool.cpp) before they sleep on a
  // condition variable: a network hands its layers to the pool back to back, and waking a
  // sleeping thread costs more than many of those layers' chunks.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // The current loop: written before generation_ is raised, read after it is seen.
  std::atomic<const Body*> body_ = nullptr;
  std::atomic<int64_t> count_ = 0;
  std::atomic<int64_t> chunks_ = 0;
  std::atomic<uint64_t> generation_ = 0; ///< increases with every loop handed to the workers
  std::atomic<int64_t> pending_ = 0;     ///< workers that have still to report on the loop
  std::exception_ptr error_;             ///< guarded by mutex_
  std::atomic<bool> stop_ = false;
};

} // namespace nnc::runtime
