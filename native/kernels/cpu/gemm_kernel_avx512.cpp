// AVX-512 GEMM micro-kernel: an 8 x 32 tile of C held in 16 zmm accumulators (started from the
// biases, if any). Each k step loads two 16-float vectors of B and broadcasts the 8 A values of
// that k, 16 FMAs in all. Partial
// tiles use column masks for the stores and for in-place B loads; in-place A rows past the
// tile's end repeat its last row (computed, never stored). Compiled with a target attribute,
// so the file builds without -march flags and runs only where the CPU has AVX-512F.
#include <algorithm>

#include "kernels/cpu/gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::cpu::gemm_detail {

#if defined(__x86_64__)
namespace {

constexpr int64_t kMr = 8, kNr = 32;

template <bool kPackedA, bool kPackedB>
__attribute__((target("avx512f"))) inline void tile_8x32(const Tile& t) {
  const int64_t nr = t.nr;
  const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : (__mmask16)0;
  const float* a_rows[kMr];
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r) a_rows[r] = t.a + (kPackedA ? r : std::min<int64_t>(r, t.mr - 1) * t.lda);
  __m512 acc[kMr][2];
  const __m512 col0 = t.col_bias ? _mm512_maskz_loadu_ps(m0, t.col_bias) : _mm512_setzero_ps();
  const __m512 col1 = t.col_bias ? _mm512_maskz_loadu_ps(m1, t.col_bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r) {
    const __m512 row = _mm512_set1_ps(t.row_bias && r < t.mr ? t.row_bias[r] : 0.f);
    acc[r][0] = _mm512_add_ps(col0, row);
    acc[r][1] = _mm512_add_ps(col1, row);
  }
  const float* b = t.b;
#pragma GCC unroll 2
  for (int64_t k = 0; k < t.kc; ++k) {
    __m512 b0, b1;
    if constexpr (kPackedB) {
      b0 = _mm512_loadu_ps(b + k * kNr);
      b1 = _mm512_loadu_ps(b + k * kNr + 16);
    } else {
      const float* row = b + t.b_offsets[k];
      b0 = _mm512_maskz_loadu_ps(m0, row);
      b1 = _mm512_maskz_loadu_ps(m1, row + 16);
    }
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) {
      const __m512 av = _mm512_set1_ps(kPackedA ? a_rows[0][k * kMr + r] : a_rows[r][k]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r) {
    if (r >= t.mr) break;
    float* row = t.c + r * t.ldc;
    __m512 v0 = acc[r][0], v1 = acc[r][1];
    if (t.accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
  }
}

__attribute__((target("avx512f"))) void kernel_8x32(const Tile& t) {
  if (t.lda == 0) {
    if (t.b_offsets) tile_8x32<true, false>(t);
    else tile_8x32<true, true>(t);
  } else {
    if (t.b_offsets) tile_8x32<false, false>(t);
    else tile_8x32<false, true>(t);
  }
}

__attribute__((target("avx512f"))) void narrow_kernel_avx512(const Tile& t) { narrow_tile<kMr, kNr>(t); }

__attribute__((target("avx512f"))) void activate_tile_avx512(const Activation& act, float* c, int64_t ldc, int64_t mr, int64_t nr) {
  ActivationEntry<16>::tile(act, c, ldc, mr, nr);
}

__attribute__((target("avx512f"))) void activation_avx512(const Activation& act, float* data, int64_t n) {
  ActivationEntry<16>::flat(act, data, n);
}

}  // namespace

const KernelSpec* avx512_kernel_spec() {
  static const KernelSpec spec{"avx512", kernel_8x32, narrow_kernel_avx512, activate_tile_avx512, activation_avx512, kMr, kNr, 128, 128, 512};
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported ? &spec : nullptr;
}

#else

const KernelSpec* avx512_kernel_spec() { return nullptr; }

#endif

}  // namespace hs::cpu::gemm_detail
