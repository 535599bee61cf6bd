// A fixed set of worker threads that run the chunks of a parallel loop with the calling thread.
#pragma once

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

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex turn_; ///< one parallelFor at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // The current loop, guarded by mutex_.
  const Body* body_ = nullptr;
  int64_t count_ = 0;
  int64_t chunks_ = 0;
  uint64_t generation_ = 0; ///< increases with every loop handed to the workers
  int64_t pending_ = 0;     ///< chunks the workers have still to finish
  std::exception_ptr error_;
  bool stop_ = false;
};

} // namespace nnc::runtime
