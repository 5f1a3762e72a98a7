// What one ThreadPool::parallel_for costs the kernels: a region of `threads` equal chunks of a
// given amount of busy work, called back to back or after a serial gap (the usual case between
// two operators), timed against the ideal (one chunk's work). The difference is the wake-up and
// hand-off cost every parallel kernel pays.
//   g++ -O2 -std=gnu++17 -Inative/include bench/kernels/thread_pool_bench.cpp native/core/thread_pool.cpp native/core/work_queue.cpp \
//       -lpthread -o /tmp/thread_pool_bench && /tmp/thread_pool_bench [threads] [spin_us]   (the Engine's pool spins 200 us)
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "hs/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

void busy_us(double us) {
  const auto t0 = Clock::now();
  while (std::chrono::duration<double, std::micro>(Clock::now() - t0).count() < us) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int spin_us = argc > 2 ? std::atoi(argv[2]) : 200;
  hs::ThreadPool pool(threads, spin_us);
  std::printf("| chunk work us | serial gap us | us per parallel_for | ideal us |\n|---:|---:|---:|---:|\n");
  for (double work : {2.0, 10.0, 50.0, 200.0}) {
    for (double gap : {0.0, 50.0}) {
      const int regions = 2000;
      double total = 0;
      for (int i = 0; i < regions; ++i) {
        busy_us(gap);
        const auto t0 = Clock::now();
        pool.parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
          for (int64_t c = begin; c < end; ++c) busy_us(work);
        });
        total += std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      }
      std::printf("| %.0f | %.0f | %.1f | %.0f |\n", work, gap, total / regions, work);
    }
  }
  return 0;
}
