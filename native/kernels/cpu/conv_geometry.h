// Sliding-window geometry shared by Conv, ConvTranspose and the pools: the attributes
// (auto_pad, kernel_shape, strides, dilations, pads, ceil_mode) parsed and checked once at build
// time, and the output sizes and effective pads they give for an input at run time.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hs/graph.h"
#include "hs/status.h"

namespace hs::cpu {

enum class AutoPad : uint8_t { kNotSet, kValid, kSameUpper, kSameLower };

struct WindowAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape;  // empty: taken from the weights (Conv)
  std::vector<int64_t> strides;       // empty: all 1
  std::vector<int64_t> dilations;     // empty: all 1
  std::vector<int64_t> pads;          // empty: all 0; else begins then ends
  bool ceil_mode = false;
};

inline Status parse_window_attrs(const Node& node, WindowAttrs* out) {
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") out->auto_pad = AutoPad::kNotSet;
  else if (auto_pad == "VALID") out->auto_pad = AutoPad::kValid;
  else if (auto_pad == "SAME_UPPER") out->auto_pad = AutoPad::kSameUpper;
  else if (auto_pad == "SAME_LOWER") out->auto_pad = AutoPad::kSameLower;
  else return Status(StatusCode::kUnsupportedOp, str_cat("attribute auto_pad='", auto_pad, "' is not supported"));
  out->kernel_shape = node.attr_ints("kernel_shape");
  out->strides = node.attr_ints("strides");
  out->dilations = node.attr_ints("dilations");
  out->pads = node.attr_ints("pads");
  out->ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  for (int64_t k : out->kernel_shape)
    if (k <= 0) return Status(StatusCode::kInvalidModel, str_cat("kernel_shape ", out->kernel_shape, " must be positive"));
  for (int64_t s : out->strides)
    if (s <= 0) return Status(StatusCode::kInvalidModel, str_cat("strides ", out->strides, " must be positive"));
  for (int64_t d : out->dilations)
    if (d <= 0) return Status(StatusCode::kInvalidModel, str_cat("dilations ", out->dilations, " must be positive"));
  for (int64_t p : out->pads)
    if (p < 0) return Status(StatusCode::kInvalidModel, str_cat("pads ", out->pads, " must not be negative"));
  return Status::ok();
}

// Per spatial axis: the output size and the pads before and after the input.
struct WindowGeometry {
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end, out;
};

// Checks the attribute lengths against the `spatial` rank of the input and fills per-axis
// kernel, strides and dilations (defaults 1).
inline Status window_axes(const WindowAttrs& attrs, const std::vector<int64_t>& kernel, size_t spatial,
                          WindowGeometry* g) {
  if (kernel.size() != spatial)
    return Status(StatusCode::kShape, str_cat("kernel ", kernel, " does not match the input's ", spatial, " spatial axes"));
  if (!attrs.strides.empty() && attrs.strides.size() != spatial)
    return Status(StatusCode::kShape, str_cat("strides ", attrs.strides, " do not match ", spatial, " spatial axes"));
  if (!attrs.dilations.empty() && attrs.dilations.size() != spatial)
    return Status(StatusCode::kShape, str_cat("dilations ", attrs.dilations, " do not match ", spatial, " spatial axes"));
  if (!attrs.pads.empty() && attrs.pads.size() != 2 * spatial)
    return Status(StatusCode::kShape, str_cat("pads ", attrs.pads, " do not match ", spatial, " spatial axes"));
  g->kernel = kernel;
  g->strides = attrs.strides.empty() ? std::vector<int64_t>(spatial, 1) : attrs.strides;
  g->dilations = attrs.dilations.empty() ? std::vector<int64_t>(spatial, 1) : attrs.dilations;
  g->pad_begin.assign(attrs.pads.begin(), attrs.pads.begin() + (attrs.pads.empty() ? 0 : spatial));
  g->pad_end.assign(attrs.pads.begin() + (attrs.pads.empty() ? 0 : spatial), attrs.pads.end());
  g->pad_begin.resize(spatial, 0);
  g->pad_end.resize(spatial, 0);
  return Status::ok();
}

// Output sizes of a forward window (Conv, pools) over input spatial sizes `in`. With ceil_mode, a
// last window that would start in the end padding is dropped (as PyTorch and onnxruntime do).
inline Status forward_window(const WindowAttrs& attrs, const std::vector<int64_t>& kernel,
                             const std::vector<int64_t>& in, WindowGeometry* g) {
  HS_RETURN_IF_ERROR(window_axes(attrs, kernel, in.size(), g));
  g->out.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t s = g->strides[i];
    const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
    if (attrs.auto_pad == AutoPad::kSameUpper || attrs.auto_pad == AutoPad::kSameLower) {
      g->out[i] = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g->out[i] - 1) * s + span - in[i]);
      const int64_t small = total / 2;
      g->pad_begin[i] = attrs.auto_pad == AutoPad::kSameUpper ? small : total - small;
      g->pad_end[i] = total - g->pad_begin[i];
      continue;
    }
    if (attrs.auto_pad == AutoPad::kValid) g->pad_begin[i] = g->pad_end[i] = 0;
    const int64_t room = in[i] + g->pad_begin[i] + g->pad_end[i] - span;
    if (room < 0)
      return Status(StatusCode::kShape, str_cat("window of ", span, " does not fit input size ", in[i], " plus pads"));
    int64_t out = room / s + 1;
    if (attrs.ceil_mode && room % s != 0) {
      ++out;
      if ((out - 1) * s >= in[i] + g->pad_begin[i]) --out;
    }
    g->out[i] = out;
  }
  return Status::ok();
}

}  // namespace hs::cpu
