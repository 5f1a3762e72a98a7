#include "hs/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "work_queue.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs {

ThreadPool::ThreadPool(int threads, int spin_us) : spin_us_(std::max(0, spin_us)), parallelism_(std::max(1, threads)) {
  if (parallelism_ > 1) helpers_ = std::make_unique<WorkQueue>(parallelism_ - 1, spin_us_);
}

ThreadPool::~ThreadPool() = default;

int ThreadPool::default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? (int)n : 1;
}

bool spin_until(int spin_us, const std::function<bool()>& ready) {
  if (spin_us <= 0) return ready();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  for (int i = 1;; ++i) {
    if (ready()) return true;
    if (i % 16 == 0) {
      // Yield now and then: on a loaded machine a spinning thread would take the core from the
      // very thread it waits for; on an idle one the yield returns at once.
      std::this_thread::yield();
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
#if defined(__x86_64__)
    _mm_pause();
#endif
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t max_chunks = std::min<int64_t>(parallelism(), (n + grain - 1) / grain);
  if (max_chunks <= 1 || !helpers_) {
    fn(0, n);
    return;
  }
  // Chunks are claimed from a shared counter by the caller and by helper tasks, so a helper that
  // starts late (the pool busy with another context) simply finds nothing left to do.
  struct Shared {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
  };
  auto shared = std::make_shared<Shared>();
  const int64_t chunks = max_chunks * 4 <= n / grain ? max_chunks * 4 : max_chunks;
  const int64_t step = (n + chunks - 1) / chunks;
  auto work = [shared, &fn, n, step, chunks]() {
    for (;;) {
      int64_t c = shared->next.fetch_add(1);
      if (c >= chunks) return;
      int64_t b = c * step, e = std::min(n, b + step);
      if (b < e) fn(b, e);
      if (shared->done.fetch_add(1) + 1 == chunks) {
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->cv.notify_all();
      }
    }
  };
  helpers_->submit(work, (int)max_chunks - 1);
  work();
  if (spin_until(spin_us_, [&] { return shared->done.load(std::memory_order_acquire) == chunks; })) return;
  std::unique_lock<std::mutex> lock(shared->mu);
  shared->cv.wait(lock, [&] { return shared->done.load() == chunks; });
}

}  // namespace hs
