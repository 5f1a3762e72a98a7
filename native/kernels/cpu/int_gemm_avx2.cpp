// The micro-kernel is 5 rows x 16 columns: 10 int32 accumulators (with the panel's 2 vectors, a
// broadcast and each vpmaddwd's product that is 14 of the 16 registers: 6 rows spilled); per pair
// of k, two loads of the panel, one broadcast of each row's two A values (one 32-bit word) and 10
// vpmaddwd + 10 vpaddd. Work items are (panel, block of rows), so any shape spreads over the threads.
#include "kernels/cpu/int_gemm_avx2.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::cpu {
namespace {

constexpr int64_t kRows = 5;
constexpr int64_t kCols = Int16Panels::kColumns;

#if defined(__x86_64__)
// c[r][0..cols) = sum over pairs q of a[r][2q..2q+1] . panel[q][column]; a rows lda int16 apart.
template <int MR>
__attribute__((target("avx2"))) void tile(const int16_t* a, int64_t lda, const int16_t* panel, int64_t pairs, int32_t* c,
                                          int64_t ldc, int64_t cols) {
  __m256i acc[MR][2];
#pragma GCC unroll 5
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int64_t q = 0; q < pairs; ++q) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + q * 2 * kCols));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + q * 2 * kCols + kCols));
#pragma GCC unroll 5
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, a + r * lda + 2 * q, sizeof pair);
      const __m256i av = _mm256_set1_epi32(pair);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, w0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, w1));
    }
  }
#pragma GCC unroll 5  // every loop over acc unrolled, or GCC keeps acc in memory
  for (int r = 0; r < MR; ++r) {
    alignas(32) int32_t out[kCols];
    _mm256_store_si256(reinterpret_cast<__m256i*>(out), acc[r][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8), acc[r][1]);
    std::memcpy(c + r * ldc, out, (size_t)cols * sizeof(int32_t));
  }
}

void tile_rows(int64_t rows, const int16_t* a, int64_t lda, const int16_t* panel, int64_t pairs, int32_t* c, int64_t ldc,
               int64_t cols) {
  switch (rows) {
    case 1: return tile<1>(a, lda, panel, pairs, c, ldc, cols);
    case 2: return tile<2>(a, lda, panel, pairs, c, ldc, cols);
    case 3: return tile<3>(a, lda, panel, pairs, c, ldc, cols);
    case 4: return tile<4>(a, lda, panel, pairs, c, ldc, cols);
    default: return tile<5>(a, lda, panel, pairs, c, ldc, cols);
  }
}
#endif

}  // namespace

Int16Panels Int16Panels::pack(const int32_t* b, int64_t K, int64_t N) {
  Int16Panels packed;
  packed.k_ = K;
  packed.n_ = N;
  packed.data_.assign((size_t)(packed.panels() * packed.pairs() * 2 * kCols), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      packed.data_[(size_t)(((n / kCols) * packed.pairs() + k / 2) * 2 * kCols + (n % kCols) * 2 + k % 2)] =
          (int16_t)b[k * N + n];
  return packed;
}

bool int16_gemm_available() { return simd_level() != SimdLevel::kGeneric; }

void int16_gemm(int64_t M, const int32_t* a, const Int16Panels& b, int32_t* c, ThreadPool* pool) {
#if defined(__x86_64__)
  const int64_t K = b.k(), N = b.n(), pairs = b.pairs(), lda = 2 * pairs;
  std::vector<int16_t> a16((size_t)(M * lda), 0);  // rows padded to whole pairs
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) a16[(size_t)(m * lda + k)] = (int16_t)a[m * K + k];
  const int64_t blocks = (M + kRows - 1) / kRows;
  pool->parallel_for(b.panels() * blocks, grain_for(kRows * kCols * K), [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t p = item / blocks, m0 = (item % blocks) * kRows;
      const int64_t cols = std::min(kCols, N - p * kCols);
      tile_rows(std::min(kRows, M - m0), a16.data() + m0 * lda, lda, b.panel(p), pairs, c + m0 * N + p * kCols, N, cols);
    }
  });
#else
  (void)M, (void)a, (void)b, (void)c, (void)pool;
#endif
}

}  // namespace hs::cpu
