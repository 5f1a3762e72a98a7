// AVX2+FMA GEMM micro-kernel: a 6 x 16 tile of C held in 12 ymm accumulators (started from the
// biases, if any; the classic
// Haswell shape: 12 accumulators + 2 B vectors + 1 broadcast fit the 16 ymm registers). Partial
// tiles are stored through a small stack buffer; in-place B rows with fewer than 16 valid
// columns are read with masked loads, and in-place A rows past the tile's end repeat its last
// row. Compiled with a target attribute, used only where the CPU has AVX2 and FMA.
#include <algorithm>

#include "kernels/cpu/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::cpu::gemm_detail {

#if defined(__x86_64__)
namespace {

constexpr int64_t kMr = 6, kNr = 16;

template <bool kPackedA, bool kPackedB>
__attribute__((target("avx2,fma"))) inline void tile_6x16(const Tile& t) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)std::min<int64_t>(t.nr, 8)), lane);
  const __m256i mask1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)std::max<int64_t>(t.nr - 8, 0)), lane);
  const bool full_width = t.nr == kNr;
  const float* a_rows[kMr];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) a_rows[r] = t.a + (kPackedA ? r : std::min<int64_t>(r, t.mr - 1) * t.lda);
  __m256 acc[kMr][2];
  const __m256 col0 = t.col_bias ? _mm256_maskload_ps(t.col_bias, mask0) : _mm256_setzero_ps();
  const __m256 col1 = t.col_bias ? _mm256_maskload_ps(t.col_bias + 8, mask1) : _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    const __m256 row = _mm256_set1_ps(t.row_bias && r < t.mr ? t.row_bias[r] : 0.f);
    acc[r][0] = _mm256_add_ps(col0, row);
    acc[r][1] = _mm256_add_ps(col1, row);
  }
#pragma GCC unroll 2
  for (int64_t k = 0; k < t.kc; ++k) {
    __m256 b0, b1;
    if constexpr (kPackedB) {
      b0 = _mm256_loadu_ps(t.b + k * kNr);
      b1 = _mm256_loadu_ps(t.b + k * kNr + 8);
    } else {
      const float* row = t.b + t.b_offsets[k];
      if (full_width) {
        b0 = _mm256_loadu_ps(row);
        b1 = _mm256_loadu_ps(row + 8);
      } else {
        b0 = _mm256_maskload_ps(row, mask0);
        b1 = _mm256_maskload_ps(row + 8, mask1);
      }
    }
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      const __m256 av = _mm256_broadcast_ss(kPackedA ? a_rows[0] + k * kMr + r : a_rows[r] + k);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  if (t.mr == kMr && full_width) {
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      float* row = t.c + r * t.ldc;
      __m256 v0 = acc[r][0], v1 = acc[r][1];
      if (t.accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, v0);
      _mm256_storeu_ps(row + 8, v1);
    }
    return;
  }
  alignas(32) float tile[kMr][kNr];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    _mm256_store_ps(tile[r], acc[r][0]);
    _mm256_store_ps(tile[r] + 8, acc[r][1]);
  }
  for (int64_t r = 0; r < t.mr; ++r) {
    float* row = t.c + r * t.ldc;
    for (int64_t j = 0; j < t.nr; ++j) row[j] = t.accumulate ? row[j] + tile[r][j] : tile[r][j];
  }
}

__attribute__((target("avx2,fma"))) void kernel_6x16(const Tile& t) {
  if (t.lda == 0) {
    if (t.b_offsets) tile_6x16<true, false>(t);
    else tile_6x16<true, true>(t);
  } else {
    if (t.b_offsets) tile_6x16<false, false>(t);
    else tile_6x16<false, true>(t);
  }
}

__attribute__((target("avx2,fma"))) void narrow_kernel_avx2(const Tile& t) { narrow_tile<kMr, kNr>(t); }

__attribute__((target("avx2,fma"))) void activate_tile_avx2(const Activation& act, float* c, int64_t ldc, int64_t mr, int64_t nr) {
  ActivationEntry<8>::tile(act, c, ldc, mr, nr);
}

__attribute__((target("avx2,fma"))) void activation_avx2(const Activation& act, float* data, int64_t n) {
  ActivationEntry<8>::flat(act, data, n);
}

}  // namespace

const KernelSpec* avx2_kernel_spec() {
  static const KernelSpec spec{"avx2", kernel_6x16, narrow_kernel_avx2, activate_tile_avx2, activation_avx2, kMr, kNr, 256, 120, 1024};
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported ? &spec : nullptr;
}

#else

const KernelSpec* avx2_kernel_spec() { return nullptr; }

#endif

}  // namespace hs::cpu::gemm_detail
