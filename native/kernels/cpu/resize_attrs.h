// Resize's attributes and its per-axis geometry from scales or sizes, shared by the CPU kernel
// (resize.cpp) and the CUDA one (backends/cuda/ops/resize_op.cpp).
#pragma once
#include <vector>

#include "hs/graph.h"
#include "hs/tensor.h"
#include "kernels/cpu/resize_coords.h"

namespace hs::cpu {

enum class AspectPolicy { kStretch, kNotLarger, kNotSmaller };

struct ResizeAttrs {
  int64_t opset = 19;               // 10 for Upsample: its one input after X is `scales`
  std::vector<float> attr_scales;   // Upsample before opset 9
  ResizeOptions options;
  AspectPolicy policy = AspectPolicy::kStretch;
  float extrapolation = 0;
  std::vector<int64_t> axes;

  // Node input numbers of roi, scales and sizes for this opset (-1: the opset has no such input).
  int roi_input() const { return opset >= 11 ? 1 : -1; }
  int scales_input() const { return attr_scales.empty() ? (opset >= 11 ? 2 : 1) : -1; }
  int sizes_input() const { return opset >= 11 ? 3 : -1; }
};

// The node's attributes (Resize or Upsample); kUnsupportedOp naming a value it does not know.
Status parse_resize_attrs(const Node& node, int64_t opset, ResizeAttrs* out);

// Input lengths, output lengths, scales and roi of every axis of `x_shape`. roi, scales and sizes
// are the node's inputs (nullptr or empty when omitted).
Status resize_geometry(const ResizeAttrs& attrs, const Shape& x_shape, const Tensor* roi, const Tensor* scales,
                       const Tensor* sizes, std::vector<AxisGeometry>* out);

}  // namespace hs::cpu
