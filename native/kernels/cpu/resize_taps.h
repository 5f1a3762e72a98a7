// Resize along one axis as a table of taps: for each output position, the input positions it
// reads and their weights (resize_coords.h computes them), and whether it falls outside.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/resize_coords.h"

namespace hs::cpu {

// The taps of one axis: `width` (index, weight) pairs per output position, and whether the
// position falls outside the input (tf_crop_and_resize: it takes the extrapolation value).
struct AxisTaps {
  int64_t width = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<uint8_t> outside;

  // True when output position i reads exactly input position i (the axis needs no pass).
  bool is_identity(int64_t in_len) const {
    const int64_t out_len = (int64_t)outside.size();
    if (out_len != in_len) return false;
    for (int64_t i = 0; i < out_len; ++i) {
      if (outside[(size_t)i]) return false;
      for (int64_t t = 0; t < width; ++t) {
        const double w = weight[(size_t)(i * width + t)];
        if (w != 0 && (w != 1 || index[(size_t)(i * width + t)] != i)) return false;
      }
    }
    return true;
  }
};

inline AxisTaps compute_taps(const AxisGeometry& g, const ResizeOptions& o) {
  const TapShape s = tap_shape(g, o);
  AxisTaps taps;
  taps.width = s.width;
  taps.index.assign((size_t)(g.out_len * s.width), 0);
  taps.weight.assign((size_t)(g.out_len * s.width), 0.0);
  taps.outside.assign((size_t)g.out_len, 0);
  for (int64_t x = 0; x < g.out_len; ++x)
    taps.outside[(size_t)x] = !position_taps(x, g, o, s, &taps.index[(size_t)(x * s.width)], &taps.weight[(size_t)(x * s.width)]);
  return taps;
}

}  // namespace hs::cpu
