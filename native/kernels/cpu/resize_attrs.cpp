#include "kernels/cpu/resize_attrs.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/movement.h"

namespace hs::cpu {

Status parse_resize_attrs(const Node& n, int64_t opset, ResizeAttrs* out) {
  ResizeAttrs& a = *out;
  a.opset = n.op_type == "Upsample" ? 10 : opset;
  a.attr_scales = n.attr_floats("scales");
  auto unsupported = [&](const char* attr, const std::string& value) {
    return Status(StatusCode::kUnsupportedOp, str_cat("Resize: ", attr, " '", value, "' is not supported"));
  };
  ResizeOptions& o = a.options;
  const std::string mode = n.attr_string("mode", "nearest");
  if (mode == "nearest") o.mode = ResizeMode::kNearest;
  else if (mode == "linear" || mode == "bilinear") o.mode = ResizeMode::kLinear;
  else if (mode == "cubic" || mode == "bicubic") o.mode = ResizeMode::kCubic;
  else return unsupported("mode", mode);

  const std::string coord = n.attr_string("coordinate_transformation_mode", a.opset >= 11 ? "half_pixel" : "asymmetric");
  if (coord == "half_pixel") o.coord = CoordMode::kHalfPixel;
  else if (coord == "half_pixel_symmetric") o.coord = CoordMode::kHalfPixelSymmetric;
  else if (coord == "pytorch_half_pixel") o.coord = CoordMode::kPytorchHalfPixel;
  else if (coord == "align_corners") o.coord = CoordMode::kAlignCorners;
  else if (coord == "asymmetric") o.coord = CoordMode::kAsymmetric;
  else if (coord == "tf_half_pixel_for_nn") o.coord = CoordMode::kTfHalfPixelForNn;
  else if (coord == "tf_crop_and_resize") o.coord = CoordMode::kTfCropAndResize;
  else return unsupported("coordinate_transformation_mode", coord);

  const std::string nearest = n.attr_string("nearest_mode", a.opset >= 11 ? "round_prefer_floor" : "simple");
  if (nearest == "round_prefer_floor") o.nearest = NearestMode::kRoundPreferFloor;
  else if (nearest == "round_prefer_ceil") o.nearest = NearestMode::kRoundPreferCeil;
  else if (nearest == "floor") o.nearest = NearestMode::kFloor;
  else if (nearest == "ceil") o.nearest = NearestMode::kCeil;
  else if (nearest == "simple" && a.opset < 11) o.nearest = NearestMode::kSimple;
  else return unsupported("nearest_mode", nearest);

  const std::string policy = n.attr_string("keep_aspect_ratio_policy", "stretch");
  if (policy == "stretch") a.policy = AspectPolicy::kStretch;
  else if (policy == "not_larger") a.policy = AspectPolicy::kNotLarger;
  else if (policy == "not_smaller") a.policy = AspectPolicy::kNotSmaller;
  else return unsupported("keep_aspect_ratio_policy", policy);

  o.cubic_a = n.attr_float("cubic_coeff_a", -0.75f);
  o.exclude_outside = n.attr_int("exclude_outside", 0) != 0;
  o.antialias = n.attr_int("antialias", 0) != 0;
  a.extrapolation = n.attr_float("extrapolation_value", 0.0f);
  a.axes = n.attr_ints("axes");
  return Status::ok();
}

Status resize_geometry(const ResizeAttrs& attrs, const Shape& x_shape, const Tensor* roi_t, const Tensor* scales_t,
                       const Tensor* sizes_t, std::vector<AxisGeometry>* out) {
  const int64_t rank = (int64_t)x_shape.size();
  auto present = [](const Tensor* t) { return t && t->numel() > 0 ? t : nullptr; };
  roi_t = present(roi_t), scales_t = present(scales_t), sizes_t = present(sizes_t);
  if (!!(scales_t || !attrs.attr_scales.empty()) == !!sizes_t) HS_FAIL(kInvalidArgument, "Resize needs exactly one of scales and sizes");

  std::vector<int64_t> axes = attrs.axes;
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  HS_RETURN_IF_ERROR(normalize_axes(&axes, rank, "Resize"));
  out->assign((size_t)rank, AxisGeometry{});
  for (int64_t d = 0; d < rank; ++d) (*out)[(size_t)d].in_len = (*out)[(size_t)d].out_len = x_shape[(size_t)d];

  if (!sizes_t) {
    if (scales_t && !is_float(scales_t->dtype())) HS_FAIL(kType, "Resize: scales must be float, got ", dtype_name(scales_t->dtype()));
    const std::vector<float> scales = scales_t ? scales_t->to_float_vector() : attrs.attr_scales;
    if (scales.size() != axes.size()) HS_FAIL(kShape, "Resize: ", scales.size(), " scales for ", axes.size(), " axes");
    for (size_t i = 0; i < axes.size(); ++i) {
      AxisGeometry& g = (*out)[(size_t)axes[i]];
      if (!(scales[i] > 0)) HS_FAIL(kInvalidArgument, "Resize: scale ", scales[i], " must be positive");
      g.scale = scales[i];
      g.out_len = (int64_t)std::floor(g.scale * (double)g.in_len);
    }
  } else {
    std::vector<int64_t> sizes;
    HS_RETURN_IF_ERROR(read_int_list(*sizes_t, "Resize", "sizes", &sizes));
    if (sizes.size() != axes.size()) HS_FAIL(kShape, "Resize: ", sizes.size(), " sizes for ", axes.size(), " axes");
    HS_RETURN_IF_ERROR(check_dims(sizes, "Resize"));
    double common = attrs.policy == AspectPolicy::kNotLarger ? INFINITY : 0;
    for (size_t i = 0; i < axes.size(); ++i) {
      AxisGeometry& g = (*out)[(size_t)axes[i]];
      if (g.in_len == 0) HS_FAIL(kShape, "Resize: cannot size the empty axis ", axes[i]);
      g.scale = (double)sizes[i] / (double)g.in_len;
      g.out_len = sizes[i];
      common = attrs.policy == AspectPolicy::kNotLarger ? std::min(common, g.scale) : std::max(common, g.scale);
    }
    if (attrs.policy != AspectPolicy::kStretch) {
      for (int64_t a : axes) {
        AxisGeometry& g = (*out)[(size_t)a];
        g.scale = common;
        g.out_len = (int64_t)std::floor(common * (double)g.in_len + 0.5);
      }
    }
  }

  if (attrs.options.coord == CoordMode::kTfCropAndResize) {
    if (!roi_t) HS_FAIL(kInvalidArgument, "Resize: tf_crop_and_resize needs roi");
    if (!is_float(roi_t->dtype())) HS_FAIL(kType, "Resize: roi must be float, got ", dtype_name(roi_t->dtype()));
    const std::vector<float> roi = roi_t->to_float_vector();
    const bool per_axis = roi.size() == 2 * axes.size();
    if (!per_axis && roi.size() != 2 * (size_t)rank)
      HS_FAIL(kShape, "Resize: roi has ", roi.size(), " values for ", axes.size(), " axes");
    const size_t half = roi.size() / 2;
    for (size_t i = 0; i < axes.size(); ++i) {
      const size_t at = per_axis ? i : (size_t)axes[i];
      (*out)[(size_t)axes[i]].roi_start = roi[at];
      (*out)[(size_t)axes[i]].roi_end = roi[at + half];
    }
  }
  return Status::ok();
}

}  // namespace hs::cpu
