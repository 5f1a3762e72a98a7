// ConvTranspose on CUDA (kernels/cuda/conv_transpose.cuh): float32, 1 to 3 spatial axes, groups,
// bias, every pad, output_padding, output_shape and auto_pad rule, with the CPU kernel's geometry
// (kernels/cpu/conv_transpose_geometry.h).
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/conv_transpose_geometry.h"
#include "kernels/cuda/conv_transpose.cuh"

namespace hs::cuda::ops {
namespace {

class ConvTransposeKernel : public CudaKernelBase {
 public:
  explicit ConvTransposeKernel(const CudaKernelInfo& info) {
    init_status = cpu::parse_transpose_attrs(info.node, &attrs_);
    for (size_t i = 0; i < info.node.inputs.size() && init_status.is_ok(); ++i)
      if (info.has_input(i)) init_status = require_dtype(info, i, {DType::kFloat32});
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const DeviceTensor* w = ctx.input(1);
    const DeviceTensor* b = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "ConvTranspose X"));
    HS_RETURN_IF_ERROR(check_dtype(w, DType::kFloat32, "ConvTranspose W"));
    if (b) HS_RETURN_IF_ERROR(check_dtype(b, DType::kFloat32, "ConvTranspose B"));
    cpu::TransposeAxis axes[cpu::kMaxTransposeSpatial];
    Shape ys;
    HS_RETURN_IF_ERROR(cpu::transpose_window(attrs_, x->shape, w->shape, b ? &b->shape : nullptr, axes, &ys));
    auto y = ctx.output(0, DType::kFloat32, ys);
    if (!y.is_ok()) return y.status();
    ConvTransposeArgs a;
    a.x = x->as<float>(), a.w = w->as<float>(), a.bias = b ? b->as<float>() : nullptr, a.y = y.value()->as<float>();
    a.batch = x->shape[0], a.in_channels = x->shape[1], a.out_channels = ys[1], a.groups = attrs_.group;
    for (size_t i = 0; i < cpu::kMaxTransposeSpatial; ++i)
      a.axes[i] = {axes[i].in, axes[i].out, axes[i].kernel, axes[i].stride, axes[i].dilation, axes[i].pad};
    return conv_transpose_f32(a, ctx.stream());
  }

 private:
  cpu::TransposeAttrs attrs_;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "ConvTranspose", ConvTransposeKernel);

}  // namespace hs::cuda::ops
