// The GEMM micro-kernels, one per instruction set, behind one table. A micro-kernel computes one
// MR x NR tile of C = A * B over a K slice of depth kc and writes its top-left mr x nr corner
// into C (adding to C's values when `accumulate`). It always computes the full tile in
// registers; only the stores, and the loads of operands read in place, are partial. Each
// operand comes packed or in place:
//   A packed:   MR values per k (a zero-padded panel);  in place: row r at a + r * lda.
//   B packed:   NR values per k (a zero-padded panel);  in place: row k at b + b_offsets[k].
// On a tile's first K slice the epilogue's biases start the accumulators (so they cost nothing);
// its activation runs on the stored tile after the last slice (activate_tile).
// Reading in place saves packing when an operand is not reused enough to pay for it, and lets
// convolutions multiply their input directly (see conv_implicit_gemm.cpp).
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace hs::cpu::gemm_detail {

struct Tile {
  int64_t kc, mr, nr;
  const float* a;
  int64_t lda;               // 0: a is a packed panel
  const float* b;
  const int64_t* b_offsets;  // nullptr: b is a packed panel
  float* c;
  int64_t ldc;
  bool accumulate;
  const float* row_bias;  // mr values added to the tile's rows, or nullptr
  const float* col_bias;  // nr values added to its columns, or nullptr
};
using TileKernel = void (*)(const Tile& tile);

// The activation on the mr x nr tile of C at c (row stride ldc).
using TileActivationFn = void (*)(const Activation& act, float* c, int64_t ldc, int64_t mr, int64_t nr);
using ActivationFn = void (*)(const Activation& act, float* data, int64_t n);

struct KernelSpec {
  const char* name;
  TileKernel kernel;
  TileKernel narrow_kernel;  // for outputs narrower than nr / 2 (needs packed A)
  TileActivationFn activate_tile;
  ActivationFn activation;
  int64_t mr, nr;  // register tile
  int64_t kc;      // depth of one K slice (an A panel MR x kc stays in L1)
  int64_t mc;      // rows of A packed at once
  int64_t nc;      // columns of B packed at once (a kc x nc block stays in L2)
};

// The micro-kernel for narrow outputs (N below half of NR, e.g. a 1x1-pixel convolution in a
// squeeze-excitation block), where the main kernel would compute mostly padding. It vectorises
// along M instead: for four output columns at a time, the MR values of a packed A panel at each k
// times that k's B value of each column. A must be packed (lda == 0).
template <int MR, int NR>
inline __attribute__((always_inline)) void narrow_tile(const Tile& t) {
  constexpr int kCols = 4;
  for (int64_t j0 = 0; j0 < t.nr; j0 += kCols) {
    float acc[kCols][MR];
    for (int j = 0; j < kCols; ++j)
      for (int r = 0; r < MR; ++r)
        acc[j][r] = (t.row_bias && r < t.mr ? t.row_bias[r] : 0.f) +
                    (t.col_bias ? t.col_bias[std::min<int64_t>(j0 + j, t.nr - 1)] : 0.f);
    int64_t col[kCols];  // columns past nr repeat the last one (computed, never stored)
    for (int j = 0; j < kCols; ++j) col[j] = std::min<int64_t>(j0 + j, t.nr - 1);
    for (int64_t k = 0; k < t.kc; ++k) {
      const float* a = t.a + k * MR;
      const float* b = t.b_offsets ? t.b + t.b_offsets[k] : t.b + k * NR;
      for (int j = 0; j < kCols; ++j) {
        const float bv = b[col[j]];
        for (int r = 0; r < MR; ++r) acc[j][r] += a[r] * bv;
      }
    }
    for (int j = 0; j < kCols && j0 + j < t.nr; ++j)
      for (int64_t r = 0; r < t.mr; ++r) {
        float* c = t.c + r * t.ldc + j0 + j;
        *c = t.accumulate ? *c + acc[j][r] : acc[j][r];
      }
  }
}

// Per ISA, the activation functions of the table, written once for W-float vectors.
template <int W>
struct ActivationEntry {
  static inline __attribute__((always_inline)) void tile(const Activation& act, float* c, int64_t ldc, int64_t mr,
                                                         int64_t nr) {
    for (int64_t r = 0; r < mr; ++r) ActivationMath<W>::apply_all(act, c + r * ldc, nr);
  }
  static inline __attribute__((always_inline)) void flat(const Activation& act, float* data, int64_t n) {
    ActivationMath<W>::apply_all(act, data, n);
  }
};

// The best kernel this CPU runs, chosen once.
const KernelSpec& kernel_spec();

// Per-ISA kernels; the avx ones return nullptr when the CPU (or the compiler) lacks the ISA.
const KernelSpec* avx512_kernel_spec();
const KernelSpec* avx2_kernel_spec();
const KernelSpec& generic_kernel_spec();

}  // namespace hs::cpu::gemm_detail
