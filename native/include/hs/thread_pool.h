// ThreadPool: a fixed set of workers shared by every execution context of an engine. parallel_for
// may be called from several threads at once; the caller works on its own range too, so a pool
// of N threads gives N+1-way parallelism to a single caller and never deadlocks when nested.
// An idle worker spins briefly before it sleeps (like onnxruntime's intra-op pool): waking a
// sleeping thread costs a futex round trip of tens of microseconds, as much as a small kernel, and
// the parallel regions of one inference follow each other closely.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hs {

class ThreadPool {
 public:
  // threads: total parallelism including the caller (>= 1).
  // spin: idle threads poll briefly before sleeping (off where many pools share few cores).
  explicit ThreadPool(int threads, bool spin = true);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int parallelism() const { return (int)workers_.size() + 1; }

  // Calls fn(begin, end) over [0, n) split into chunks of at least `grain` items.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  static int default_threads();

 private:
  void worker_loop();
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> tasks_;
  std::atomic<int64_t> queued_{0};  // tasks_.size(), read by spinning workers without the lock
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  const bool spin_;
};

}  // namespace hs
