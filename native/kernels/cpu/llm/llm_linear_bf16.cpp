// y[m, n] = sum_k bf16(x[m, k]) * W[n, k] + bias[n] with float32 accumulation, W in the k-pair
// panel layout of llm_weights.h (kBFloat16Pairs). The rows of x are first rounded to bf16 operands
// (llm_bf16.h), two adjacent k as one 32-bit pair, an odd k padded with zero. Per pair, AVX512_BF16's
// vdpbf16ps takes a panel's 64 bytes (16 output lanes x 2 weights) and a broadcast x pair and, per
// lane, does acc = fma(x[2j+1], w[2j+1], acc), then acc = fma(x[2j], w[2j], acc): two float32
// roundings (a product of two bf16 is exact), subnormal results flushed to zero. That is twice the
// multiply-adds per instruction of the float32 FMA kernel. Without the instruction, the same two
// FMAs in the same order run on AVX2 (each pair split into two floats by a mask and a shift; FTZ set
// in MXCSR) or in scalar code, so every path gives the same bits (checked against the instruction
// on Zen 4). Blocking as in llm_linear.cpp: 8 rows x a group of 3 panels (24 accumulators) for
// batches, a group per pass at m = 1 so decode streams each weight byte once; every output lane is
// one chain over the pairs in order, whatever m, the blocking or the threads' split of the groups.
#include "llm_linear_bf16.h"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "llm_bf16.h"
#include "llm_panel_loop.h"
#include "llm_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::llm {
namespace {

constexpr int64_t P = kPanelRows;
constexpr int kMaxRows = 8;  // input rows per micro-kernel call (avx512bf16; the AVX2 emulation takes 4)

enum class Bf16Kernel { kAvx512Bf16, kAvx2, kScalar };

Bf16Kernel choose_kernel() {
  const char* forced = std::getenv("HS_LLM_BF16_KERNEL");
  const std::string want = forced ? forced : "";
  if (want == "scalar") return Bf16Kernel::kScalar;
  if (want != "avx2" && cpu_has_avx512_bf16()) return Bf16Kernel::kAvx512Bf16;
  if (cpu_has_avx2()) return Bf16Kernel::kAvx2;
  return Bf16Kernel::kScalar;
}

Bf16Kernel bf16_kernel() {
  static const Bf16Kernel kernel = choose_kernel();
  return kernel;
}

uint32_t load_pair(const uint16_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// x [m, k] -> [m, 2 * kp] bf16 operands, a zero after an odd k.
__attribute__((always_inline)) inline void round_to_pairs(const float* x, int64_t m, int64_t k, int64_t kp, uint16_t* out) {
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * k;
    uint16_t* o = out + i * 2 * kp;
    for (int64_t c = 0; c < k; ++c) o[c] = bf16_operand(row[c]);
    if (k % 2) o[k] = 0;
  }
}

#if defined(__x86_64__)
// The same loop vectorised 16 wide, 2.5x faster than with SSE2: it runs on one thread before the
// kernels (~13 us for a batch of 32 rows of 2816).
__attribute__((target("avx512f,avx2,fma,f16c"))) void round_to_pairs_avx512(const float* x, int64_t m, int64_t k,
                                                                    int64_t kp, uint16_t* out) {
  round_to_pairs(x, m, k, kp, out);
}
#endif

void round_rows(const float* x, int64_t m, int64_t k, int64_t kp, uint16_t* out) {
#if defined(__x86_64__)
  if (cpu_has_avx512()) return round_to_pairs_avx512(x, m, k, kp, out);
#endif
  round_to_pairs(x, m, k, kp, out);
}

float flush(float v) { return std::fabs(v) < FLT_MIN ? std::copysign(0.f, v) : v; }

// The micro-kernels take np panels side by side from w: the 16 pairs of pair step c of panel p at
// w + c * ldk + p * 32 (ldk: elements per pair step of the panels' group, see llm_weights.h).
// out[i * ldo + p * 16 + j] = lane j of panel p against row i; the portable emulation of vdpbf16ps.
void kernel_scalar(int mb, int np, const uint16_t* x, int64_t kp, const uint16_t* w, int64_t ldk, float* out, int64_t ldo) {
  for (int i = 0; i < mb; ++i)
    for (int p = 0; p < np; ++p)
      for (int64_t j = 0; j < P; ++j) {
        const uint16_t* lane = w + p * 2 * P + j * 2;
        const uint16_t* xi = x + i * kp * 2;
        float s = 0.f;
        for (int64_t c = 0; c < kp; ++c) {
          s = flush(std::fma(bf16_to_float(xi[2 * c + 1]), bf16_to_float(lane[c * ldk + 1]), s));
          s = flush(std::fma(bf16_to_float(xi[2 * c]), bf16_to_float(lane[c * ldk]), s));
        }
        out[i * ldo + p * P + j] = s;
      }
}

// Panels [0, np) (whole groups) one group at a time, portable.
void block_scalar(int mb, int np, const uint16_t* x, int64_t kp, const uint16_t* w, float* out, int64_t ldo) {
  for_each_group(np, [&](int g, int gw) { kernel_scalar(mb, gw, x, kp, w + g * kp * 2 * P, gw * 2 * P, out + g * P, ldo); });
}

#if defined(__x86_64__)
#define HS_AVX2_FN __attribute__((target("avx2,fma")))

// While alive, float results that would be subnormal are flushed to zero, as vdpbf16ps does.
class FlushToZero {
 public:
  FlushToZero() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | _MM_FLUSH_ZERO_ON); }
  ~FlushToZero() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
};

HS_AVX2_FN inline __m256 float_of_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return _mm256_set1_ps(f);
}

// MB rows against one panel, 8 lanes per register; the weight pairs' high halves (w[2j+1]) are
// masked out, the low halves (w[2j]) shifted up.
template <int MB>
HS_AVX2_FN void kernel_avx2(const uint16_t* x, int64_t kp, const uint16_t* w, int64_t ldk, float* out, int64_t ldo) {
  __m256 acc[MB][2];
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  const __m256i high = _mm256_set1_epi32((int)0xffff0000u);
  for (int64_t c = 0; c < kp; ++c) {
    __m256 odd[2], even[2];
#pragma GCC unroll 16
    for (int h = 0; h < 2; ++h) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + c * ldk + h * P));
      odd[h] = _mm256_castsi256_ps(_mm256_and_si256(v, high));
      even[h] = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
#pragma GCC unroll 16
    for (int i = 0; i < MB; ++i) {
      const uint32_t pair = load_pair(x + (i * kp + c) * 2);
      const __m256 xo = float_of_bits(pair & 0xffff0000u), xe = float_of_bits(pair << 16);
#pragma GCC unroll 16
      for (int h = 0; h < 2; ++h) {
        acc[i][h] = _mm256_fmadd_ps(xo, odd[h], acc[i][h]);
        acc[i][h] = _mm256_fmadd_ps(xe, even[h], acc[i][h]);
      }
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i) {
    _mm256_storeu_ps(out + i * ldo, acc[i][0]);
    _mm256_storeu_ps(out + i * ldo + 8, acc[i][1]);
  }
}

// Rows [0, mb) against panels [0, np) (whole groups), mb <= 4, one panel at a time.
HS_AVX2_FN void block_avx2(int mb, int np, const uint16_t* x, int64_t kp, const uint16_t* w, float* out, int64_t ldo) {
  const FlushToZero ftz;
  for_each_group(np, [&](int g, int gw) {
    const int64_t ldk = gw * 2 * P;
    for (int q = 0; q < gw; ++q) {
      const uint16_t* panel = w + g * kp * 2 * P + q * 2 * P;
      float* o = out + (g + q) * P;
      switch (mb) {
        case 1: kernel_avx2<1>(x, kp, panel, ldk, o, ldo); break;
        case 2: kernel_avx2<2>(x, kp, panel, ldk, o, ldo); break;
        case 3: kernel_avx2<3>(x, kp, panel, ldk, o, ldo); break;
        default: kernel_avx2<4>(x, kp, panel, ldk, o, ldo); break;
      }
    }
  });
}

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and warn about it (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define HS_BF16_FN __attribute__((target("avx512f,avx512bf16,avx2,fma")))

template <int MB, int NP>
HS_BF16_FN void kernel_avx512bf16(const uint16_t* x, int64_t kp, const uint16_t* w, float* out, int64_t ldo) {
  constexpr int64_t ldk = NP * 2 * P;
  __m512 acc[MB][NP];
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_setzero_ps();
  for (int64_t c = 0; c < kp; ++c) {
    __m512bh wv[NP];
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) wv[p] = (__m512bh)_mm512_loadu_si512(w + c * ldk + p * 2 * P);
#pragma GCC unroll 16
    for (int i = 0; i < MB; ++i) {
      const __m512bh xb = (__m512bh)_mm512_set1_epi32((int)load_pair(x + (i * kp + c) * 2));
#pragma GCC unroll 16
      for (int p = 0; p < NP; ++p) acc[i][p] = _mm512_dpbf16_ps(acc[i][p], xb, wv[p]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
    for (int p = 0; p < NP; ++p) _mm512_storeu_ps(out + i * ldo + p * P, acc[i][p]);
}

// Rows [0, mb) against the NP panels of one group, mb <= kMaxRows.
template <int NP>
HS_BF16_FN void rows_avx512bf16(int mb, const uint16_t* x, int64_t kp, const uint16_t* w, float* out, int64_t ldo) {
  switch (mb) {
    case 1: return kernel_avx512bf16<1, NP>(x, kp, w, out, ldo);
    case 2: return kernel_avx512bf16<2, NP>(x, kp, w, out, ldo);
    case 3: return kernel_avx512bf16<3, NP>(x, kp, w, out, ldo);
    case 4: return kernel_avx512bf16<4, NP>(x, kp, w, out, ldo);
    case 5: return kernel_avx512bf16<5, NP>(x, kp, w, out, ldo);
    case 6: return kernel_avx512bf16<6, NP>(x, kp, w, out, ldo);
    case 7: return kernel_avx512bf16<7, NP>(x, kp, w, out, ldo);
    default: return kernel_avx512bf16<8, NP>(x, kp, w, out, ldo);
  }
}

// Rows [0, mb) against panels [0, np) (whole groups), one group at a time.
HS_BF16_FN void block_avx512bf16(int mb, int np, const uint16_t* x, int64_t kp, const uint16_t* w, float* out, int64_t ldo) {
  static_assert(kGroupPanels == 3, "one kernel per group width");
  for_each_group(np, [&](int g, int gw) {
    const uint16_t* group = w + g * kp * 2 * P;
    switch (gw) {
      case 3: return rows_avx512bf16<3>(mb, x, kp, group, out + g * P, ldo);
      case 2: return rows_avx512bf16<2>(mb, x, kp, group, out + g * P, ldo);
      default: return rows_avx512bf16<1>(mb, x, kp, group, out + g * P, ldo);
    }
  });
}
#pragma GCC diagnostic pop
#endif

}  // namespace

const char* bf16_kernel_name() {
  switch (bf16_kernel()) {
    case Bf16Kernel::kAvx512Bf16: return "avx512bf16";
    case Bf16Kernel::kAvx2: return "avx2";
    case Bf16Kernel::kScalar: return "scalar";
  }
  return "unknown";
}

void linear_bf16(ThreadPool& pool, const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y) {
  if (m <= 0 || w.rows <= 0) return;
  const int64_t kp = w.stored_cols() / 2;
  std::vector<uint16_t> xb((size_t)(m * kp * 2));
  round_rows(x, m, w.cols, kp, xb.data());
  const Bf16Kernel kernel = bf16_kernel();
  const int64_t rows = kernel == Bf16Kernel::kAvx512Bf16 ? kMaxRows : 4;
  const uint16_t* data = static_cast<const uint16_t*>(w.data);
  pool.parallel_for(w.groups(), 1, [&](int64_t b, int64_t e) {
    for_panel_blocks(m, rows, w, bias, y, b, e, [&](int64_t m0, int mb, int64_t g0, int np, float* tile, int64_t ldo) {
      const uint16_t* xr = xb.data() + m0 * kp * 2;
      const uint16_t* panels = data + g0 * kp * 2 * P;
      switch (kernel) {
#if defined(__x86_64__)
        case Bf16Kernel::kAvx512Bf16: return block_avx512bf16(mb, np, xr, kp, panels, tile, ldo);
        case Bf16Kernel::kAvx2: return block_avx2(mb, np, xr, kp, panels, tile, ldo);
#else
        case Bf16Kernel::kAvx512Bf16:
        case Bf16Kernel::kAvx2:
#endif
        case Bf16Kernel::kScalar: return block_scalar(mb, np, xr, kp, panels, tile, ldo);
      }
    });
  });
}

}  // namespace hs::llm
