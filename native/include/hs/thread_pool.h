// ThreadPool: a fixed set of workers shared by every execution context of an engine. parallel_for
// may be called from several threads at once; the caller works on its own range too, so a pool
// of N threads gives N+1-way parallelism to a single caller and never deadlocks when nested.
// With spin_us > 0, idle workers (and a caller waiting for its helpers) poll for that long before
// blocking: a futex wake-up costs tens of microseconds on a VM, which is the whole budget of one
// small parallel_for in an LLM decode step (hundreds of them per token).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

namespace hs {

// Polls `ready` for up to spin_us microseconds, yielding now and then; true if it became true.
// Threads that expect work soon call it before they block on a condition variable.
bool spin_until(int spin_us, const std::function<bool()>& ready);

class WorkQueue;

class ThreadPool {
 public:
  // threads: total parallelism including the caller (>= 1); spin_us: see above (0: block at once).
  explicit ThreadPool(int threads, int spin_us = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int parallelism() const { return parallelism_; }

  // Calls fn(begin, end) over [0, n) split into chunks of at least `grain` items.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  static int default_threads();

 private:
  const int spin_us_;
  const int parallelism_;
  std::unique_ptr<WorkQueue> helpers_;  // parallelism_ - 1 threads; none when the caller works alone
};

}  // namespace hs
