#include "work_queue.h"

#include <algorithm>

#include "hs/thread_pool.h"

namespace hs {

WorkQueue::WorkQueue(int threads, int spin_us) : spin_us_(std::max(0, spin_us)) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { worker_loop(); });
}

WorkQueue::~WorkQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  queued_.store(1, std::memory_order_release);  // ends any spin; the threads then see stop_
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkQueue::submit(std::function<void()> job, int copies) {
  if (copies <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 1; i < copies; ++i) jobs_.push_back(job);
    jobs_.push_back(std::move(job));
    queued_.store((int64_t)jobs_.size(), std::memory_order_release);
  }
  // Without a thread asleep on the condition variable this is a check, not a system call.
  if (copies == 1) cv_.notify_one();
  else cv_.notify_all();
}

void WorkQueue::worker_loop() {
  for (;;) {
    std::function<void()> job;
    const bool polled = spin_until(spin_us_, [this] { return queued_.load(std::memory_order_acquire) > 0; });
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (polled && !stop_ && jobs_.empty()) continue;  // another thread took the job: poll again
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      queued_.store(stop_ ? 1 : (int64_t)jobs_.size(), std::memory_order_release);
    }
    job();
  }
}

}  // namespace hs
