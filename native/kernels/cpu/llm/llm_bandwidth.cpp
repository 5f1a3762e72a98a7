// Read bandwidth: a buffer is filled once (so its pages exist), then each pass sums it in
// parallel chunks with 4 independent AVX2 accumulators (scalar elsewhere) and is timed; the best
// pass counts. The sums go to an atomic so that the reads cannot be optimised away.
#include "llm_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "hs/tensor.h"
#include "llm_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::llm {
namespace {

#if defined(__x86_64__)
__attribute__((target("avx2"))) float sum_avx2(const float* p, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0.f;
  for (float v : lanes) s += v;
  for (; i < n; ++i) s += p[i];
  return s;
}
#endif

float sum(const float* p, int64_t n) {
#if defined(__x86_64__)
  if (cpu_has_avx2()) return sum_avx2(p, n);
#endif
  float s = 0.f;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}

}  // namespace

Status measure_read_bandwidth(ThreadPool& pool, size_t bytes, int passes, double* out) {
  HS_CHECK_ARG(bytes >= (1u << 20) && passes >= 1, "bandwidth: need at least 1 MiB and one pass");
  std::shared_ptr<Buffer> buffer = Buffer::allocate_huge(bytes);
  if (!buffer) HS_FAIL(kOutOfMemory, "bandwidth: cannot allocate ", bytes, " bytes");
  std::memset(buffer->data(), 0, bytes);
  const float* data = static_cast<const float*>(buffer->data());
  const int64_t n = (int64_t)(bytes / sizeof(float)) / 32 * 32;
  const int64_t chunk = 1 << 16;  // floats per work item (256 KiB)
  std::atomic<int64_t> sink{0};
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    auto start = std::chrono::steady_clock::now();
    pool.parallel_for((n + chunk - 1) / chunk, 1, [&](int64_t b, int64_t e) {
      float s = 0.f;
      for (int64_t c = b; c < e; ++c) s += sum(data + c * chunk, std::min(chunk, n - c * chunk));
      sink += (int64_t)s;
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, (double)n * sizeof(float) / seconds);
  }
  *out = best;
  return Status::ok();
}

}  // namespace hs::llm
