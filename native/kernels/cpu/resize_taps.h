// Resize along one axis as a table of taps: for each output position, the input positions it
// reads and their weights. The coordinate mapping and the kernels follow the ONNX reference
// (onnx/reference/ops/op_resize.py): an output position x maps to an input coordinate x_in by
// the coordinate_transformation_mode; x_in = base + r with r in (0, 1] (an integer coordinate
// prefers the pixel on its left); tap j of [j0, 2 - j0) reads input base + j (clamped to the
// edge) with weight kernel(s * (j - r)), where s is min(scale, 1) with antialias and 1 otherwise
// and j0 = floor(-support / s) + 1 (support 1 for linear, 2 for cubic). Nearest picks base or
// base + 1 by nearest_mode.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hs/status.h"

namespace hs::cpu {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class CoordMode { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric,
                       kTfHalfPixelForNn, kTfCropAndResize };
// kSimple is opset 10's rule (as onnxruntime has it): floor when upsampling, ceil when downsampling.
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct ResizeOptions {
  ResizeMode mode = ResizeMode::kNearest;
  CoordMode coord = CoordMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  bool antialias = false;
};

// One axis' geometry: lengths, the scale (output / input, as given or derived from sizes) and,
// for tf_crop_and_resize, the region of interest in normalised coordinates.
struct AxisGeometry {
  int64_t in_len = 1, out_len = 1;
  double scale = 1;
  double roi_start = 0, roi_end = 1;
};

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

// The input coordinate of output position x.
inline double input_coordinate(int64_t x, const AxisGeometry& g, CoordMode mode) {
  const double out_width = g.scale * (double)g.in_len;  // fractional, as the reference computes it
  switch (mode) {
    case CoordMode::kHalfPixel: return (x + 0.5) / g.scale - 0.5;
    case CoordMode::kHalfPixelSymmetric: {
      const double adjustment = (double)g.out_len / out_width;
      const double offset = (double)g.in_len / 2 * (1 - adjustment);
      return offset + (x + 0.5) / g.scale - 0.5;
    }
    case CoordMode::kPytorchHalfPixel: return g.out_len == 1 ? 0.0 : (x + 0.5) / g.scale - 0.5;  // as the spec says
    case CoordMode::kAlignCorners: return out_width == 1 ? 0.0 : x * (double)(g.in_len - 1) / (out_width - 1);
    case CoordMode::kAsymmetric: return x / g.scale;
    case CoordMode::kTfHalfPixelForNn: return (x + 0.5) / g.scale;
    case CoordMode::kTfCropAndResize: {
      const double span = (g.roi_end - g.roi_start) * (double)(g.in_len - 1);
      const double start = g.roi_start * (double)(g.in_len - 1);
      return out_width == 1 ? start + span / 2 : start + x * span / (out_width - 1);
    }
  }
  return 0;
}

inline double cubic_kernel(double t, double a) {
  t = std::fabs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

inline AxisTaps compute_taps(const AxisGeometry& g, const ResizeOptions& o) {
  AxisTaps taps;
  const int64_t last = g.in_len - 1;
  const bool interpolating = o.mode != ResizeMode::kNearest;
  const double kernel_scale = interpolating && o.antialias ? std::min(g.scale, 1.0) : 1.0;
  const int64_t first_tap =
      interpolating ? (int64_t)std::floor(-(o.mode == ResizeMode::kLinear ? 1.0 : 2.0) / kernel_scale) + 1 : 0;
  taps.width = interpolating ? 2 - 2 * first_tap : 1;
  taps.index.assign((size_t)(g.out_len * taps.width), 0);
  taps.weight.assign((size_t)(g.out_len * taps.width), 0.0);
  taps.outside.assign((size_t)g.out_len, 0);
  std::vector<double> w((size_t)taps.width);
  for (int64_t x = 0; x < g.out_len; ++x) {
    const double xi = input_coordinate(x, g, o.coord);
    if (o.coord == CoordMode::kTfCropAndResize && (xi < 0 || xi > (double)last)) {
      taps.outside[(size_t)x] = 1;
      continue;
    }
    const double base = std::ceil(xi) - 1, r = xi - base;  // r in (0, 1]
    int64_t* index = &taps.index[(size_t)(x * taps.width)];
    double* weight = &taps.weight[(size_t)(x * taps.width)];
    if (!interpolating) {
      bool right = true;  // an integer coordinate (r == 1) is base + 1
      if (r != 1) {
        switch (o.nearest) {
          case NearestMode::kRoundPreferFloor: right = r > 0.5; break;
          case NearestMode::kRoundPreferCeil: right = r >= 0.5; break;
          case NearestMode::kFloor: right = false; break;
          case NearestMode::kCeil: right = true; break;
          case NearestMode::kSimple: right = g.scale < 1; break;
        }
      }
      index[0] = std::min(std::max((int64_t)base + (right ? 1 : 0), (int64_t)0), last);
      weight[0] = 1;
      continue;
    }
    double sum = 0;
    for (int64_t j = 0; j < taps.width; ++j) {
      const double t = kernel_scale * ((double)(first_tap + j) - r);
      double v = o.mode == ResizeMode::kLinear ? std::max(0.0, 1 - std::fabs(t)) : cubic_kernel(t, o.cubic_a);
      const int64_t at = (int64_t)base + first_tap + j;
      if (o.exclude_outside && (at < 0 || at > last)) v = 0;
      w[(size_t)j] = v;
      sum += v;
      index[j] = std::min(std::max(at, (int64_t)0), last);
    }
    const bool normalise = o.antialias || o.exclude_outside;
    for (int64_t j = 0; j < taps.width; ++j)
      weight[j] = normalise && sum != 0 ? w[(size_t)j] / sum : w[(size_t)j];
  }
  return taps;
}

}  // namespace hs::cpu
