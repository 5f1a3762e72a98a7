// Throughput of the LLM projection kernel (native/kernels/cpu/llm/llm_linear.cpp) on bf16 weights
// of the benchmark model's shapes, for m = 1 (decode: weight bytes per second) and larger m
// (batched decode and prefill: GFLOP/s), best of several runs; then m = 1 streaming through
// 48 different matrices (270 MB, far over the L3) as a decode step does, next to the plain read
// bandwidth that `highservice bench llm` measures.
//   g++ -O3 -std=gnu++17 -Inative/include -Inative bench/llm/linear_bench.cpp native/kernels/cpu/llm/llm_linear.cpp
//       native/kernels/cpu/llm/llm_simd.cpp native/kernels/cpu/llm/llm_weights.cpp native/kernels/cpu/llm/llm_bandwidth.cpp native/core/thread_pool.cpp
//       native/core/status.cpp native/core/dtype.cpp native/core/tensor.cpp -lpthread -o /tmp/linear_bench && /tmp/linear_bench [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "kernels/cpu/llm/llm_bandwidth.h"
#include "kernels/cpu/llm/llm_linear.h"

using namespace hs;
using namespace hs::llm;

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : ThreadPool::default_threads();
  ThreadPool pool(threads);
  struct Shape { const char* name; int64_t rows, cols; };
  const Shape shapes[] = {{"gate/up 2816x1024", 2816, 1024}, {"down 1024x2816", 1024, 2816}, {"q/o 1024x1024", 1024, 1024}, {"k/v 256x1024", 256, 1024}};
  for (const Shape& s : shapes) {
    WeightMatrix w;
    w.type = WeightType::kBFloat16;
    w.rows = s.rows;
    w.cols = s.cols;
    std::vector<uint16_t> data((size_t)(w.panels() * kPanelRows * s.cols));
    for (size_t i = 0; i < data.size(); ++i) data[i] = (uint16_t)(0x3c00 + (i * 2654435761u >> 20) % 512);
    w.data = data.data();
    for (int64_t m : {1, 8, 32, 64}) {
      std::vector<float> x((size_t)(m * s.cols), 0.01f), y((size_t)(m * s.rows));
      double best = 1e9;
      const int reps = m == 1 ? 200 : 20;
      for (int r = 0; r < reps; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        linear(pool, x.data(), m, w, nullptr, y.data());
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("%-18s m=%-3lld %8.1f us  %6.1f GB/s of weights  %6.1f GFLOP/s\n", s.name, (long long)m, best * 1e6,
                  (double)w.bytes() / best / 1e9, 2.0 * m * s.rows * s.cols / best / 1e9);
    }
  }
  // Decode from memory: one pass over many matrices, as a forward over all layers reads them.
  std::vector<std::vector<uint16_t>> store(48, std::vector<uint16_t>((size_t)(176 * kPanelRows * 1024), 0x3c00));
  std::vector<float> x(1024, 0.01f), y(2816);
  double best = 1e9;
  size_t bytes = 0;
  for (int r = 0; r < 10; ++r) {
    bytes = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (auto& data : store) {
      WeightMatrix w;
      w.type = WeightType::kBFloat16;
      w.rows = 2816;
      w.cols = 1024;
      w.data = data.data();
      linear(pool, x.data(), 1, w, nullptr, y.data());
      bytes += w.bytes();
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  double read = 0;
  (void)measure_read_bandwidth(pool, 512u << 20, 5, &read);
  std::printf("decode streaming %zu MB: %.1f GB/s; plain read bandwidth %.1f GB/s\n", bytes >> 20, (double)bytes / best / 1e9, read / 1e9);
  return 0;
}
