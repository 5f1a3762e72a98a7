// y[m, n] = sum_k x[m, k] * W[n, k] (* scale[n] for int8) + bias[n], W in the panel layout of
// llm_weights.h. A micro-kernel computes MB input rows against NP panels (16 output rows each):
// for every k it loads the panels' 16 weights (widened to float32 in registers), broadcasts
// x[i, k], and accumulates with FMA, one 16-float AVX-512 register (or 2 x 8 floats with AVX2) per
// panel and input row. Every output lane is one FMA chain over k in the same order whatever MB,
// NP and the instruction set are, so a sequence's logits do not depend on what else is in the
// batch. Decode (m = 1) reads a group of 3 panels at a time (one contiguous stream, three
// independent chains) and streams each weight byte once; larger m runs equal blocks of input rows (up to
// 8 with AVX-512's 32 registers: 8 x 3 accumulators; up to 6 with AVX2's 16: 6 x 1 x 2) over one group at a time
// while it sits in L1/L2 (llm_panel_loop.h). Threads split the groups.
// kBFloat16Pairs weights (matmul precision bf16) go to llm_linear_bf16.cpp instead.
#include "llm_linear.h"

#include <algorithm>

#include "llm_linear_bf16.h"
#include "llm_panel_loop.h"
#include "llm_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::llm {
namespace {

constexpr int kMaxRows = 8;  // input rows per micro-kernel call (AVX-512; AVX2 and scalar take 6)
constexpr int64_t P = kPanelRows;

float element(const float* p, int64_t i) { return p[i]; }
float element(const Half* p, int64_t i) { return half_to_float(p[i].bits); }
float element(const BFloat16* p, int64_t i) { return bf16_to_float(p[i].bits); }
float element(const int8_t* p, int64_t i) { return (float)p[i]; }

// The micro-kernels take np panels side by side from w: weight (c, lane j) of panel p at
// w[c * ldk + p * 16 + j] (ldk: elements per column step of the panels' group, see llm_weights.h).
// out[i * ldo + p * 16 + j] = sum_c x[i * k + c] * that weight; portable version.
template <typename W>
void kernel_scalar(int mb, int np, const float* x, int64_t k, const W* w, int64_t ldk, float* out, int64_t ldo) {
  for (int i = 0; i < mb; ++i)
    for (int p = 0; p < np; ++p)
      for (int64_t j = 0; j < P; ++j) {
        float s = 0.f;
        for (int64_t c = 0; c < k; ++c) s += x[i * k + c] * element(w, c * ldk + p * P + j);
        out[i * ldo + p * P + j] = s;
      }
}

#if defined(__x86_64__)
#define HS_AVX2_FN __attribute__((target("avx2,fma,f16c")))

HS_AVX2_FN inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
HS_AVX2_FN inline __m256 load8(const Half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
HS_AVX2_FN inline __m256 load8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// A panel row's 16 weights as two 8-float registers, and the matching store of the two sums
// (bf16: the specialisation below).
template <typename W>
struct Avx2Row {
  HS_AVX2_FN static void load(const W* p, __m256& a, __m256& b) {
    a = load8(p);
    b = load8(p + 8);
  }
  HS_AVX2_FN static void store(float* out, __m256 a, __m256 b) {
    _mm256_storeu_ps(out, a);
    _mm256_storeu_ps(out + 8, b);
  }
};

// bf16 widens with one shift (even columns: low halves) and one AND (odd columns: high halves) of
// a single 32-byte load, half the vector work of widening each 8 with a zero extension and a shift;
// the store puts the columns back in order. Each lane is still one FMA chain over k.
template <>
struct Avx2Row<BFloat16> {
  HS_AVX2_FN static void load(const BFloat16* p, __m256& even, __m256& odd) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    odd = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u)));
  }
  HS_AVX2_FN static void store(float* out, __m256 even, __m256 odd) {
    const __m256 lo = _mm256_unpacklo_ps(even, odd), hi = _mm256_unpackhi_ps(even, odd);  // columns 0-3 8-11, 4-7 12-15
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(out + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
};

template <int MB, int NP, typename W>
HS_AVX2_FN void kernel_avx2(const float* x, int64_t k, const W* w, int64_t ldk, float* out, int64_t ldo) {
  __m256 acc[MB][NP][2];
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) acc[i][p][0] = acc[i][p][1] = _mm256_setzero_ps();
  for (int64_t c = 0; c < k; ++c) {
    __m256 wv[NP][2];
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) Avx2Row<W>::load(w + c * ldk + p * P, wv[p][0], wv[p][1]);
#pragma GCC unroll 16
    for (int i = 0; i < MB; ++i) {
      const __m256 xb = _mm256_broadcast_ss(x + i * k + c);
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) {
        acc[i][p][0] = _mm256_fmadd_ps(xb, wv[p][0], acc[i][p][0]);
        acc[i][p][1] = _mm256_fmadd_ps(xb, wv[p][1], acc[i][p][1]);
      }
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) Avx2Row<W>::store(out + i * ldo + p * P, acc[i][p][0], acc[i][p][1]);
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and warn about it (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define HS_AVX512_FN __attribute__((target("avx512f,avx2,fma,f16c")))

HS_AVX512_FN inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
HS_AVX512_FN inline __m512 load16(const Half* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
HS_AVX512_FN inline __m512 load16(const BFloat16* p) {
  __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
HS_AVX512_FN inline __m512 load16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

template <int MB, int NP, typename W>
HS_AVX512_FN void kernel_avx512(const float* x, int64_t k, const W* w, int64_t ldk, float* out, int64_t ldo) {
  __m512 acc[MB][NP];
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_setzero_ps();
  for (int64_t c = 0; c < k; ++c) {
    __m512 wv[NP];
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) wv[p] = load16(w + c * ldk + p * P);
#pragma GCC unroll 16
    for (int i = 0; i < MB; ++i) {
      const __m512 xb = _mm512_set1_ps(x[i * k + c]);
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_fmadd_ps(xb, wv[p], acc[i][p]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) _mm512_storeu_ps(out + i * ldo + p * P, acc[i][p]);
}

// Rows [0, mb) against the NP panels of one group, mb <= kMaxRows.
template <int NP, typename W>
HS_AVX512_FN void rows_avx512(int mb, const float* x, int64_t k, const W* w, float* out, int64_t ldo) {
  constexpr int64_t ldk = NP * P;
  switch (mb) {
    case 1: return kernel_avx512<1, NP>(x, k, w, ldk, out, ldo);
    case 2: return kernel_avx512<2, NP>(x, k, w, ldk, out, ldo);
    case 3: return kernel_avx512<3, NP>(x, k, w, ldk, out, ldo);
    case 4: return kernel_avx512<4, NP>(x, k, w, ldk, out, ldo);
    case 5: return kernel_avx512<5, NP>(x, k, w, ldk, out, ldo);
    case 6: return kernel_avx512<6, NP>(x, k, w, ldk, out, ldo);
    case 7: return kernel_avx512<7, NP>(x, k, w, ldk, out, ldo);
    default: return kernel_avx512<8, NP>(x, k, w, ldk, out, ldo);
  }
}

// Runs rows [0, mb) against panels [0, np) (whole groups), one group at a time.
template <typename W>
HS_AVX512_FN void block_avx512(int mb, int np, const float* x, int64_t k, const W* w, float* out, int64_t ldo) {
  static_assert(kGroupPanels == 3, "one kernel per group width");
  for_each_group(np, [&](int g, int gw) {
    const W* group = w + g * k * P;
    switch (gw) {
      case 3: return rows_avx512<3>(mb, x, k, group, out + g * P, ldo);
      case 2: return rows_avx512<2>(mb, x, k, group, out + g * P, ldo);
      default: return rows_avx512<1>(mb, x, k, group, out + g * P, ldo);
    }
  });
}
#pragma GCC diagnostic pop

// Runs rows [0, mb) against panels [0, np) (whole groups) with register-sized kernels: a group at
// once for one row, else one panel at a time.
template <typename W>
HS_AVX2_FN void block_avx2(int mb, int np, const float* x, int64_t k, const W* w, float* out, int64_t ldo) {
  for_each_group(np, [&](int g, int gw) {
    const W* group = w + g * k * P;
    const int64_t ldk = gw * P;
    if (mb == 1) {
      switch (gw) {
        case 3: return kernel_avx2<1, 3>(x, k, group, ldk, out + g * P, ldo);
        case 2: return kernel_avx2<1, 2>(x, k, group, ldk, out + g * P, ldo);
        default: return kernel_avx2<1, 1>(x, k, group, ldk, out + g * P, ldo);
      }
    }
    for (int q = 0; q < gw; ++q) {
      const W* panel = group + q * P;
      float* o = out + (g + q) * P;
      switch (mb) {
        case 2: kernel_avx2<2, 1>(x, k, panel, ldk, o, ldo); break;
        case 3: kernel_avx2<3, 1>(x, k, panel, ldk, o, ldo); break;
        case 4: kernel_avx2<4, 1>(x, k, panel, ldk, o, ldo); break;
        case 5: kernel_avx2<5, 1>(x, k, panel, ldk, o, ldo); break;
        default: kernel_avx2<6, 1>(x, k, panel, ldk, o, ldo); break;
      }
    }
  });
}
#endif

// Panels [0, np) (whole groups) one group at a time, portable.
template <typename W>
void block_scalar(int mb, int np, const float* x, int64_t k, const W* w, float* out, int64_t ldo) {
  for_each_group(np, [&](int g, int gw) { kernel_scalar(mb, gw, x, k, w + g * k * P, gw * P, out + g * P, ldo); });
}

// Panel groups [g_begin, g_end) of W for all m rows of x.
template <typename W>
void linear_panels(const float* x, int64_t m, const WeightMatrix& wm, const float* bias, float* y, int64_t g_begin,
                   int64_t g_end) {
  const W* w = static_cast<const W*>(wm.data);
  const int64_t k = wm.cols;
  const bool simd = cpu_has_avx2(), simd512 = cpu_has_avx512();
  for_panel_blocks(m, simd512 ? kMaxRows : 6, wm, bias, y, g_begin, g_end, [&](int64_t m0, int mb, int64_t g0, int np, float* tile, int64_t ldo) {
    const W* panels = w + g0 * k * P;
#if defined(__x86_64__)
    if (simd512) block_avx512(mb, np, x + m0 * k, k, panels, tile, ldo);
    else if (simd) block_avx2(mb, np, x + m0 * k, k, panels, tile, ldo);
    else block_scalar(mb, np, x + m0 * k, k, panels, tile, ldo);
#else
    (void)simd;
    (void)simd512;
    block_scalar(mb, np, x + m0 * k, k, panels, tile, ldo);
#endif
  });
}

}  // namespace

void linear(ThreadPool& pool, const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y) {
  if (m <= 0 || w.rows <= 0) return;
  if (w.type == WeightType::kBFloat16Pairs) return linear_bf16(pool, x, m, w, bias, y);
  pool.parallel_for(w.groups(), 1, [&](int64_t b, int64_t e) {
    switch (w.type) {
      case WeightType::kFloat32: return linear_panels<float>(x, m, w, bias, y, b, e);
      case WeightType::kFloat16: return linear_panels<Half>(x, m, w, bias, y, b, e);
      case WeightType::kBFloat16: return linear_panels<BFloat16>(x, m, w, bias, y, b, e);
      case WeightType::kInt8: return linear_panels<int8_t>(x, m, w, bias, y, b, e);
      case WeightType::kBFloat16Pairs: return;  // above
    }
  });
}

}  // namespace hs::llm
