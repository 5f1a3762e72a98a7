// The loop around the projection micro-kernels (llm_linear.cpp, llm_linear_bf16.cpp) on one
// thread's panel groups [g_begin, g_end) of W (threads split W by whole groups, see llm_weights.h),
// for all m rows of x. Decode-sized batches (m <= rows_per_block) take all the thread's panels at
// once; larger ones go one group at a time, so its panels stay cached while every block of input
// rows passes over them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "llm_weights.h"

namespace hs::llm {

// block(m0, mb, g0, np, tile, ldo) writes rows [m0, m0 + mb) (mb <= rows_per_block) against panels
// [g0, g0 + np) (whole groups: g0 starts one) into `tile`, row i at tile + i * ldo; the loop then
// applies the int8 scales and the bias and stores the rows into y [m, wm.rows].
template <typename Block>
void for_panel_blocks(int64_t m, int64_t rows_per_block, const WeightMatrix& wm, const float* bias, float* y,
                      int64_t g_begin, int64_t g_end, Block&& block) {
  const int64_t n = wm.rows;
  const int64_t p0 = g_begin * kGroupPanels, p1 = std::min(wm.panels(), g_end * kGroupPanels);
  const int64_t group = m <= rows_per_block ? p1 - p0 : kGroupPanels;
  std::vector<float> tile;
  for (int64_t g0 = p0; g0 < p1; g0 += group) {
    const int np = (int)std::min(group, p1 - g0);
    const int64_t ldo = np * kPanelRows;
    tile.resize((size_t)(rows_per_block * ldo));
    // Blocks of equal size (32 rows in 6 + 6 + 5 + ... rather than 5 x 6 + 2): a block of few rows
    // has too few FMA chains to hide their latency.
    const int64_t blocks = (m + rows_per_block - 1) / rows_per_block;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t m0 = b * m / blocks;
      const int mb = (int)((b + 1) * m / blocks - m0);
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

// f(g, gw) for the groups of panels [0, np) (np from the start of a group): g their first panel,
// gw how many panels they hold.
template <typename F>
void for_each_group(int np, F&& f) {
  for (int g = 0; g < np; g += (int)kGroupPanels) f(g, std::min<int>((int)kGroupPanels, np - g));
}

}  // namespace hs::llm
