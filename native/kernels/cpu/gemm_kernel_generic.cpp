// Portable GEMM micro-kernel (4 x 16 tile) in plain C++: the accumulator tile lives in a local
// array the compiler keeps in vector registers (SSE2 on any x86-64, NEON on ARM). Used when the
// CPU has neither AVX-512 nor AVX2+FMA.
#include <algorithm>

#include "kernels/cpu/gemm_kernels.h"

namespace hs::cpu::gemm_detail {
namespace {

constexpr int64_t kMr = 4, kNr = 16;

void kernel_4x16(const Tile& t) {
  float acc[kMr][kNr] = {};
  float a[kMr];
  float b[kNr] = {};
  const int64_t cols = std::min(t.nr, kNr);
  for (int64_t r = 0; r < t.mr; ++r)
    for (int64_t j = 0; j < cols; ++j)
      acc[r][j] = (t.row_bias ? t.row_bias[r] : 0.f) + (t.col_bias ? t.col_bias[j] : 0.f);
  for (int64_t k = 0; k < t.kc; ++k) {
    for (int64_t r = 0; r < kMr; ++r) a[r] = t.lda ? t.a[std::min(r, t.mr - 1) * t.lda + k] : t.a[k * kMr + r];
    const float* brow = t.b_offsets ? t.b + t.b_offsets[k] : t.b + k * kNr;
    for (int64_t j = 0; j < (t.b_offsets ? cols : kNr); ++j) b[j] = brow[j];
    for (int64_t r = 0; r < kMr; ++r)
      for (int64_t j = 0; j < kNr; ++j) acc[r][j] += a[r] * b[j];
  }
  for (int64_t r = 0; r < t.mr; ++r) {
    float* row = t.c + r * t.ldc;
    for (int64_t j = 0; j < t.nr; ++j) row[j] = t.accumulate ? row[j] + acc[r][j] : acc[r][j];
  }
}

void narrow_kernel_generic(const Tile& t) { narrow_tile<kMr, kNr>(t); }

void activate_tile_generic(const Activation& act, float* c, int64_t ldc, int64_t mr, int64_t nr) {
  ActivationEntry<4>::tile(act, c, ldc, mr, nr);
}

void activation_generic(const Activation& act, float* data, int64_t n) {
  ActivationEntry<4>::flat(act, data, n);
}

}  // namespace

const KernelSpec& generic_kernel_spec() {
  static const KernelSpec spec{"generic", kernel_4x16, narrow_kernel_generic, activate_tile_generic, activation_generic, kMr, kNr, 256, 128, 1024};
  return spec;
}

}  // namespace hs::cpu::gemm_detail
