// ConvTranspose's attributes and geometry, shared by the CPU kernel (conv_transpose.cpp) and the
// CUDA one (backends/cuda/ops/conv_transpose_op.cpp). Up to 3 spatial axes; fewer are the last of
// three with unit axes in front.
//
// Output size and pads: output_shape when given (pads derived from it), else auto_pad SAME_*
// (output = input * stride), else  stride * (in - 1) + output_padding + (kernel - 1) * dilation
// + 1 - pads. Derived pads follow the ONNX spec: an odd total puts the extra pad at the tail for
// SAME_UPPER, at the head otherwise. Input pixel `in` and kernel tap `k` land on output position
// in * stride - pad + k * dilation.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/cpu/conv_geometry.h"

namespace hs::cpu {

constexpr size_t kMaxTransposeSpatial = 3;

struct TransposeAxis {
  int64_t in = 1, out = 1, kernel = 1, stride = 1, dilation = 1, pad = 0;
};

struct TransposeAttrs {
  WindowAttrs window;
  int64_t group = 1;
  std::vector<int64_t> output_padding, output_shape;
};

inline Status parse_transpose_attrs(const Node& node, TransposeAttrs* out) {
  HS_RETURN_IF_ERROR(parse_window_attrs(node, &out->window));
  out->group = node.attr_int("group", 1);
  out->output_padding = node.attr_ints("output_padding");
  out->output_shape = node.attr_ints("output_shape");
  if (out->group <= 0) return Status(StatusCode::kInvalidModel, str_cat("attribute group=", out->group, " must be positive"));
  return Status::ok();
}

// Checks X [N, C, spatial...], W [C, M/group, kernel...] and B [M] (b: nullptr when absent) against
// each other and the attributes, and fills the 3 axes (unit ones in front) and Y's shape.
inline Status transpose_window(const TransposeAttrs& a, const Shape& xs, const Shape& ws, const Shape* b,
                               TransposeAxis* axes, Shape* ys) {
  if (xs.size() < 3 || xs.size() > 2 + kMaxTransposeSpatial)
    HS_FAIL(kShape, "ConvTranspose input X ", xs, " must have 1 to 3 spatial axes");
  if (ws.size() != xs.size()) HS_FAIL(kShape, "ConvTranspose weights W ", ws, " must have the rank of X ", xs);
  if (ws[0] != xs[1] || ws[0] % a.group != 0)
    HS_FAIL(kShape, "ConvTranspose with group=", a.group, ": X ", xs, " and W ", ws, " do not agree on channels");
  const int64_t out_channels = ws[1] * a.group;
  if (b && (b->size() != 1 || (*b)[0] != out_channels))
    HS_FAIL(kShape, "ConvTranspose bias B ", *b, " must be [", out_channels, "]");

  const size_t spatial = xs.size() - 2, lead = kMaxTransposeSpatial - spatial;
  const std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
  if (!a.window.kernel_shape.empty() && a.window.kernel_shape != kernel)
    HS_FAIL(kShape, "ConvTranspose kernel_shape ", a.window.kernel_shape, " does not match W ", ws);
  WindowGeometry g;
  HS_RETURN_IF_ERROR(window_axes(a.window, kernel, spatial, &g));
  if (!a.output_padding.empty() && a.output_padding.size() != spatial)
    HS_FAIL(kShape, "output_padding ", a.output_padding, " does not match ", spatial, " spatial axes");
  std::vector<int64_t> wanted;  // explicit output sizes, if any
  if (a.output_shape.size() == spatial) wanted = a.output_shape;
  else if (a.output_shape.size() == spatial + 2) wanted.assign(a.output_shape.begin() + 2, a.output_shape.end());
  else if (!a.output_shape.empty()) HS_FAIL(kShape, "output_shape ", a.output_shape, " does not match ", spatial, " spatial axes");
  const bool same = a.window.auto_pad == AutoPad::kSameUpper || a.window.auto_pad == AutoPad::kSameLower;
  *ys = {xs[0], out_channels};
  for (size_t i = 0; i < lead; ++i) axes[i] = TransposeAxis{};
  for (size_t i = 0; i < spatial; ++i) {
    TransposeAxis& t = axes[lead + i];
    t.in = xs[2 + i];
    t.kernel = kernel[i];
    t.stride = g.strides[i];
    t.dilation = g.dilations[i];
    const int64_t extra = a.output_padding.empty() ? 0 : a.output_padding[i];
    const int64_t natural = t.stride * (t.in - 1) + extra + (t.kernel - 1) * t.dilation + 1;
    if (!wanted.empty() || same) {
      t.out = wanted.empty() ? t.in * t.stride : wanted[i];
      const int64_t total = std::max<int64_t>(0, natural - t.out);
      t.pad = a.window.auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
    } else {
      t.pad = g.pad_begin[i];
      t.out = natural - g.pad_begin[i] - g.pad_end[i];
    }
    if (t.out <= 0) HS_FAIL(kShape, "ConvTranspose output size ", t.out, " on spatial axis ", i, " is not positive");
    ys->push_back(t.out);
  }
  return Status::ok();
}

}  // namespace hs::cpu
