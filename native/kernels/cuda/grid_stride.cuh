// The launch shape of the grid-stride loops (one thread per element, each thread stepping by the
// grid's size): 256 threads a block and at most 65535 * 8 blocks, the loop covering the rest.
#pragma once
#include <cstdint>

namespace hs::cuda {

constexpr int kGridStrideThreads = 256;

inline unsigned grid_stride_blocks(int64_t n) {
  const int64_t blocks = (n + kGridStrideThreads - 1) / kGridStrideThreads;
  return (unsigned)(blocks < 65535 * 8 ? blocks : 65535 * 8);
}

}  // namespace hs::cuda
