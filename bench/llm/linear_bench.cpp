// Throughput of the LLM projection kernels on bf16 weights of the benchmark model's shapes: the
// float32 FMA kernel (native/kernels/cpu/llm/llm_linear.cpp, matmul precision fp32) and the bf16 dot
// product kernel (llm_linear_bf16.cpp, matmul precision bf16: k-pair layout, activations rounded to
// bf16), for m = 1 (decode: weight bytes per second) and larger m (batched decode and prefill:
// GFLOP/s), best of several runs; then m = 1 streaming through 48 different matrices (270 MB, far
// over the L3) as a decode step does, next to the plain read bandwidth that `highservice bench llm`
// measures.
//   g++ -O3 -std=gnu++17 -Inative/include -Inative bench/llm/linear_bench.cpp native/kernels/cpu/llm/llm_linear.cpp
//       native/kernels/cpu/llm/llm_linear_bf16.cpp native/kernels/cpu/llm/llm_simd.cpp native/kernels/cpu/llm/llm_weights.cpp
//       native/kernels/cpu/llm/llm_bandwidth.cpp native/core/thread_pool.cpp native/core/work_queue.cpp native/core/status.cpp native/core/dtype.cpp
//       native/core/tensor.cpp -lpthread -o /tmp/linear_bench && /tmp/linear_bench [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "kernels/cpu/llm/llm_bandwidth.h"
#include "kernels/cpu/llm/llm_linear.h"
#include "kernels/cpu/llm/llm_linear_bf16.h"

using namespace hs;
using namespace hs::llm;

namespace {

// The same bytes serve both layouts: only the speed is measured.
WeightMatrix matrix(WeightType type, int64_t rows, int64_t cols, const uint16_t* data) {
  WeightMatrix w;
  w.type = type;
  w.rows = rows;
  w.cols = cols;
  w.data = data;
  return w;
}

const char* precision(WeightType type) { return type == WeightType::kBFloat16Pairs ? "bf16" : "fp32"; }

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : ThreadPool::default_threads();
  ThreadPool pool(threads);
  std::printf("%d threads; bf16 kernel %s\n", threads, bf16_kernel_name());
  const WeightType types[] = {WeightType::kBFloat16, WeightType::kBFloat16Pairs};
  struct Shape { const char* name; int64_t rows, cols; };
  const Shape shapes[] = {{"gate/up 2816x1024", 2816, 1024}, {"down 1024x2816", 1024, 2816}, {"q/o 1024x1024", 1024, 1024}, {"k/v 256x1024", 256, 1024}};
  for (const Shape& s : shapes) {
    std::vector<uint16_t> data((size_t)((s.rows + kPanelRows - 1) / kPanelRows * kPanelRows * s.cols));
    for (size_t i = 0; i < data.size(); ++i) data[i] = (uint16_t)(0x3c00 + (i * 2654435761u >> 20) % 512);
    for (int64_t m : {1, 8, 32, 64})
      for (WeightType type : types) {
        const WeightMatrix w = matrix(type, s.rows, s.cols, data.data());
        std::vector<float> x((size_t)(m * s.cols), 0.01f), y((size_t)(m * s.rows));
        double best = 1e9;
        const int reps = m == 1 ? 200 : 20;
        for (int r = 0; r < reps; ++r) {
          auto t0 = std::chrono::steady_clock::now();
          linear(pool, x.data(), m, w, nullptr, y.data());
          best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        std::printf("%-18s %s m=%-3lld %8.1f us  %6.1f GB/s of weights  %6.1f GFLOP/s\n", s.name, precision(type), (long long)m,
                    best * 1e6, (double)w.bytes() / best / 1e9, 2.0 * m * s.rows * s.cols / best / 1e9);
      }
  }
  // Decode from memory: one pass over many matrices, as a forward over all layers reads them,
  // allocated as the model allocates its weights (Buffer::allocate_huge).
  std::vector<std::shared_ptr<Buffer>> store;
  const size_t elems = (size_t)(176 * kPanelRows * 1024);
  for (int i = 0; i < 48; ++i) {
    store.push_back(Buffer::allocate_huge(elems * 2));
    std::fill_n(static_cast<uint16_t*>(store.back()->data()), elems, (uint16_t)0x3c00);
  }
  std::vector<float> x(1024, 0.01f), y(2816);
  for (WeightType type : types) {
    double best = 1e9;
    size_t bytes = 0;
    for (int r = 0; r < 10; ++r) {
      bytes = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& data : store) {
        const WeightMatrix w = matrix(type, 2816, 1024, static_cast<const uint16_t*>(data->data()));
        linear(pool, x.data(), 1, w, nullptr, y.data());
        bytes += w.bytes();
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("decode streaming %zu MB, %s: %.1f GB/s\n", bytes >> 20, precision(type), (double)bytes / best / 1e9);
  }
  double read = 0;
  (void)measure_read_bandwidth(pool, 512u << 20, 5, &read);
  std::printf("plain read bandwidth %.1f GB/s\n", read / 1e9);
  return 0;
}
