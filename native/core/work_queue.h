// WorkQueue: a few dedicated threads that take submitted jobs in order of arrival. The Engine keeps
// one per execution context for its asynchronous runs and the LLM one for its forward steps, so
// that work from JS never waits in libuv's pool (4 threads, shared with file I/O, DNS and model
// builds); ThreadPool's helpers are one too. A submit to a thread still polling after its last job
// (spin_us) is a store: no system call, no wake-up of a sleeping thread (tens of microseconds on a VM).
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hs {

class WorkQueue {
 public:
  WorkQueue(int threads, int spin_us);
  // Runs the jobs still queued, then joins. Must not run on one of the queue's own threads.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `copies` runs of job (ThreadPool::parallel_for queues its helpers at once) and wakes
  // as many threads.
  void submit(std::function<void()> job, int copies = 1);

 private:
  void worker_loop();
  const int spin_us_;
  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  std::atomic<int64_t> queued_{0};  // jobs_.size() (or 1 once stopping), readable without the lock
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace hs
