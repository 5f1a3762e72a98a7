// The loop around the projection micro-kernels (llm_linear.cpp, llm_linear_bf16.cpp) on one
// thread's panels [p0, p1) of W, for all m rows of x. Decode-sized batches (m <= rows_per_block)
// take all the panels at once; larger ones go 3 panels at a time, so the panels stay cached while
// every block of input rows passes over them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "llm_weights.h"

namespace hs::llm {

// block(m0, mb, g0, np, tile, ldo) writes rows [m0, m0 + mb) (mb <= rows_per_block) against panels
// [g0, g0 + np) into `tile`, row i at tile + i * ldo; the loop then applies the int8 scales and
// the bias and stores the rows into y [m, wm.rows].
template <typename Block>
void for_panel_blocks(int64_t m, int64_t rows_per_block, const WeightMatrix& wm, const float* bias, float* y, int64_t p0,
                      int64_t p1, Block&& block) {
  const int64_t n = wm.rows;
  const int64_t group = m <= rows_per_block ? p1 - p0 : 3;
  std::vector<float> tile;
  for (int64_t g0 = p0; g0 < p1; g0 += group) {
    const int np = (int)std::min(group, p1 - g0);
    const int64_t ldo = np * kPanelRows;
    tile.resize((size_t)(rows_per_block * ldo));
    for (int64_t m0 = 0; m0 < m; m0 += rows_per_block) {
      const int mb = (int)std::min(rows_per_block, m - m0);
      block(m0, mb, g0, np, tile.data(), ldo);
      const int64_t r0 = g0 * kPanelRows, r1 = std::min(n, (g0 + np) * kPanelRows);
      for (int i = 0; i < mb; ++i)
        for (int64_t r = r0; r < r1; ++r) {
          float v = tile[(size_t)(i * ldo + r - r0)];
          if (!wm.scales.empty()) v *= wm.scales[(size_t)r];
          if (bias) v += bias[r];
          y[(m0 + i) * n + r] = v;
        }
    }
  }
}

}  // namespace hs::llm
