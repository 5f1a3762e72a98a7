// Resize and Upsample on CUDA (kernels/cuda/resize.cuh): every mode, coordinate transformation,
// nearest_mode, antialias and exclude_outside, as the CPU kernel has them (the attributes, geometry
// and taps are its code). Nearest takes any fixed-width dtype; linear and cubic, and
// tf_crop_and_resize, take float32. roi, scales and sizes are read on the host.
#include <cstring>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/resize_attrs.h"
#include "kernels/cpu/resize_taps.h"
#include "kernels/cuda/resize.cuh"

namespace hs::cuda::ops {
namespace {

class ResizeKernel : public CudaKernelBase {
 public:
  explicit ResizeKernel(const CudaKernelInfo& info) {
    init_status = cpu::parse_resize_attrs(info.node, info.opset, &attrs_);
    if (!init_status.is_ok()) return;
    const bool float_only =
        attrs_.options.mode != cpu::ResizeMode::kNearest || attrs_.options.coord == cpu::CoordMode::kTfCropAndResize;
    if (float_only) {
      init_status = require_dtype(info, 0, {DType::kFloat32});
      return;
    }
    const DType t = info.input_dtype(0);
    if (!fixed_width(t))
      HS_CUDA_UNSUPPORTED("nearest Resize of ", t == DType::kUndefined ? "a dtype unknown at build time" : dtype_name(t));
  }

  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidArgument, "Resize: input X is missing");
    const bool nearest = attrs_.options.mode == cpu::ResizeMode::kNearest;
    if ((!nearest || attrs_.options.coord == cpu::CoordMode::kTfCropAndResize) && x->dtype != DType::kFloat32)
      HS_FAIL(kType, "Resize: X must be float32 here, got ", dtype_name(x->dtype));
    if (!fixed_width(x->dtype)) HS_FAIL(kType, "Resize: X of dtype ", dtype_name(x->dtype), " is not supported");
    auto host = [&](int i) { return i >= 0 && i < ctx.num_inputs() ? ctx.host_input(i) : nullptr; };
    std::vector<cpu::AxisGeometry> geometry;
    HS_RETURN_IF_ERROR(cpu::resize_geometry(attrs_, x->shape, host(attrs_.roi_input()), host(attrs_.scales_input()),
                                            host(attrs_.sizes_input()), &geometry));
    Shape out_shape;
    for (const cpu::AxisGeometry& g : geometry) out_shape.push_back(g.out_len);
    if (shape_numel(out_shape) > 0 && x->numel() == 0)
      HS_FAIL(kShape, "Resize: cannot resize the empty input of shape ", x->shape, " to ", out_shape);
    if (geometry.size() > (size_t)kMaxDims) HS_FAIL(kShape, "Resize: rank ", geometry.size(), " exceeds the CUDA kernel's ", kMaxDims);
    auto y = ctx.output(0, x->dtype, out_shape);
    if (!y.is_ok()) return y.status();
    if (shape_numel(out_shape) == 0) return Status::ok();
    if (geometry.empty()) geometry.push_back(cpu::AxisGeometry{});  // a scalar: one element, copied

    ResizeArgs a;
    a.x = x->data, a.y = y.value()->data, a.elem_size = dtype_size(x->dtype);
    a.rank = (int)geometry.size();
    a.options = attrs_.options;
    for (int d = 0; d < a.rank; ++d) {
      a.axes[d] = geometry[(size_t)d];
      // Only an axis that keeps its length can be one (the taps are built on the host just for those).
      a.identity[d] = a.axes[d].in_len == a.axes[d].out_len &&
                      cpu::compute_taps(a.axes[d], a.options).is_identity(a.axes[d].in_len);
    }
    uint32_t bits;
    std::memcpy(&bits, &attrs_.extrapolation, sizeof bits);
    a.extrapolation_bits = bits;  // used only by float32 (tf_crop_and_resize)
    auto scratch = ctx.scratch(resize_scratch_bytes(a));
    if (!scratch.is_ok()) return scratch.status();
    return resize(a, scratch.value(), ctx.stream());
  }

 private:
  static bool fixed_width(DType t) {
    const size_t size = dtype_size(t);  // 0 for string and undefined
    return size == 1 || size == 2 || size == 4 || size == 8;
  }

  cpu::ResizeAttrs attrs_;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Resize", ResizeKernel);
HS_REGISTER_CUDA_KERNEL("", "Upsample", ResizeKernel);

}  // namespace hs::cuda::ops
