// Resize's coordinate mapping and tap weights for one output position, shared by the CPU kernel
// (resize_taps.h builds a table per axis from it) and the CUDA one (native/kernels/cuda/resize.cu
// fills its tables on the device with the same functions, so both pick the same input pixels).
// They follow the ONNX reference (onnx/reference/ops/op_resize.py): an output position x maps to
// an input coordinate x_in by the coordinate_transformation_mode; x_in = base + r with r in (0, 1]
// (an integer coordinate prefers the pixel on its left); tap j of [j0, 2 - j0) reads input
// base + j (clamped to the edge) with weight kernel(s * (j - r)), where s is min(scale, 1) with
// antialias and 1 otherwise and j0 = floor(-support / s) + 1 (support 1 for linear, 2 for cubic).
// Nearest picks base or base + 1 by nearest_mode. Plain structs and math only: no std containers.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/cpu/host_device.h"

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

// The taps every position of an axis has: `width` of them, the first at base + first_tap, their
// kernel argument scaled by kernel_scale.
struct TapShape {
  int64_t width = 1, first_tap = 0;
  double kernel_scale = 1;
};

HS_HOST_DEVICE inline TapShape tap_shape(const AxisGeometry& g, const ResizeOptions& o) {
  TapShape s;
  if (o.mode == ResizeMode::kNearest) return s;
  s.kernel_scale = o.antialias && g.scale < 1 ? g.scale : 1.0;
  s.first_tap = (int64_t)floor(-(o.mode == ResizeMode::kLinear ? 1.0 : 2.0) / s.kernel_scale) + 1;
  s.width = 2 - 2 * s.first_tap;
  return s;
}

// The input coordinate of output position x.
HS_HOST_DEVICE inline double input_coordinate(int64_t x, const AxisGeometry& g, CoordMode mode) {
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

HS_HOST_DEVICE inline double cubic_kernel(double t, double a) {
  t = fabs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

HS_HOST_DEVICE inline int64_t clamp_index(int64_t i, int64_t last) { return i < 0 ? 0 : i > last ? last : i; }

// Tap j's weight for a position at base + r (before normalisation).
HS_HOST_DEVICE inline double tap_weight(int64_t j, double base, double r, int64_t last, const ResizeOptions& o,
                                        const TapShape& s) {
  const double t = s.kernel_scale * ((double)(s.first_tap + j) - r);
  const double tent = 1 - fabs(t);
  const int64_t at = (int64_t)base + s.first_tap + j;
  if (o.exclude_outside && (at < 0 || at > last)) return 0;
  return o.mode == ResizeMode::kLinear ? (tent > 0 ? tent : 0.0) : cubic_kernel(t, o.cubic_a);
}

// The s.width taps of output position x: input indices and weights. False (and nothing written)
// where x falls outside the input (tf_crop_and_resize: it takes the extrapolation value).
template <typename Index, typename Weight>
HS_HOST_DEVICE inline bool position_taps(int64_t x, const AxisGeometry& g, const ResizeOptions& o, const TapShape& s,
                                         Index* index, Weight* weight) {
  const int64_t last = g.in_len - 1;
  const double xi = input_coordinate(x, g, o.coord);
  if (o.coord == CoordMode::kTfCropAndResize && (xi < 0 || xi > (double)last)) return false;
  const double base = ceil(xi) - 1, r = xi - base;  // r in (0, 1]
  if (o.mode == ResizeMode::kNearest) {
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
    index[0] = (Index)clamp_index((int64_t)base + (right ? 1 : 0), last);
    weight[0] = 1;
    return true;
  }
  // Weights in double, normalised (antialias, exclude_outside) before they are stored.
  double sum = 0;
  for (int64_t j = 0; j < s.width; ++j) sum += tap_weight(j, base, r, last, o, s);
  const bool normalise = (o.antialias || o.exclude_outside) && sum != 0;
  for (int64_t j = 0; j < s.width; ++j) {
    const double v = tap_weight(j, base, r, last, o, s);
    weight[j] = (Weight)(normalise ? v / sum : v);
    index[j] = (Index)clamp_index((int64_t)base + s.first_tap + j, last);
  }
  return true;
}

}  // namespace hs::cpu
