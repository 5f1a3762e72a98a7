// ThreadPool: a fixed set of workers shared by every execution context of an engine. parallel_for
// may be called from several threads at once; the caller works on its own range too, so a pool
// of N threads gives N+1-way parallelism to a single caller and never deadlocks when nested.
#pragma once
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
  explicit ThreadPool(int threads);
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
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace hs
