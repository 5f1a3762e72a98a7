// Conv and hs:FusedConv (Y = act(conv(X, W) + B + Z)) on CUDA: 1-D and 2-D NCHW convolutions,
// float32 activations, as implicit GEMMs (gemm.cuh) with bias, residual and activation in the
// epilogue, on the kernel the plan's tactic selected (gemm_tactic.h; cuBLASLt is never one). With
// precision fp16/bf16 constant weights are stored in that type on the device.
// Geometry (auto_pad, strides, dilations, pads) is the CPU backend's (kernels/cpu/conv_geometry.h).
#include "backends/cuda/ops/gemm_tactic.h"
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/conv_geometry.h"
#include "kernels/cuda/gemm.cuh"

namespace hs::cuda::ops {
namespace {

class ConvKernel : public CudaKernelBase {
 public:
  ConvKernel(const CudaKernelInfo& info, bool fused) {
    init_status = cpu::parse_window_attrs(info.node, &attrs_);
    if (!init_status.is_ok()) return;
    group_ = info.node.attr_int("group", 1);
    for (size_t i = 0; i < info.node.inputs.size() && init_status.is_ok(); ++i)
      if (info.has_input(i)) init_status = require_dtype(info, i, {DType::kFloat32});
    if (init_status.is_ok() && fused) init_status = parse_epilogue(info.node, false, &ep_);
    const passes::ValueType& w = info.inputs.size() > 1 ? info.inputs[1] : passes::ValueType{};
    if (init_status.is_ok() && (!w.has_rank || w.rank() < 3 || w.rank() > 4))
      HS_CUDA_UNSUPPORTED("the CUDA convolution takes 1-D and 2-D kernels of known rank");
    tactics_.init(info, false);
  }

  DType device_constant_dtype(int input) const override {
    return input == 1 ? tactics_.weight_dtype() : DType::kUndefined;
  }
  std::vector<std::string> tactics() const override { return tactics_.candidates(); }
  Status select_tactic(const std::string& name) override { return tactics_.select(name); }
  std::string tactic() const override { return tactics_.selected(); }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const DeviceTensor* w = ctx.input(1);
    const DeviceTensor* b = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const DeviceTensor* z = ctx.num_inputs() > 3 ? ctx.input(3) : nullptr;
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    GemmElem w_elem;
    HS_RETURN_IF_ERROR(gemm_elem(w, "W", &w_elem));
    if (x->rank() != w->rank() || x->rank() < 3 || x->rank() > 4)
      HS_FAIL(kShape, "Conv X ", x->shape, " and W ", w->shape, " must both be 3-D or 4-D");
    const bool is_1d = x->rank() == 3;
    const Shape in_spatial(x->shape.begin() + 2, x->shape.end());
    const Shape kernel(w->shape.begin() + 2, w->shape.end());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      HS_FAIL(kShape, "Conv kernel_shape ", attrs_.kernel_shape, " does not match W ", w->shape);
    if (group_ <= 0 || x->shape[1] != w->shape[1] * group_ || w->shape[0] % group_)
      HS_FAIL(kShape, "Conv X ", x->shape, " and W ", w->shape, " do not agree with group=", group_);
    const int64_t out_channels = w->shape[0];
    if (b && (b->rank() != 1 || b->shape[0] != out_channels)) HS_FAIL(kShape, "Conv B ", b->shape, " must be [", out_channels, "]");
    cpu::WindowGeometry g;
    HS_RETURN_IF_ERROR(cpu::forward_window(attrs_, kernel, in_spatial, &g));
    Shape out = {x->shape[0], out_channels};
    out.insert(out.end(), g.out.begin(), g.out.end());
    if (z && z->shape != out) HS_FAIL(kShape, "residual ", z->shape, " must have the output's shape ", out);
    auto y = ctx.output(0, DType::kFloat32, out);
    if (!y.is_ok()) return y.status();

    const size_t h = 0, wi = is_1d ? 0 : 1;  // axes of height and width in the geometry
    Conv2dArgs a;
    a.x = x->as<float>(), a.w = w->data, a.w_elem = w_elem, a.y = y.value()->as<float>();
    a.bias = b ? b->as<float>() : nullptr;
    a.residual = z ? z->as<float>() : nullptr;
    a.batch = x->shape[0], a.in_channels = x->shape[1], a.out_channels = out_channels, a.groups = group_;
    a.in_h = is_1d ? 1 : in_spatial[h], a.in_w = in_spatial[wi];
    a.out_h = is_1d ? 1 : g.out[h], a.out_w = g.out[wi];
    a.kernel_h = is_1d ? 1 : kernel[h], a.kernel_w = kernel[wi];
    a.stride_h = is_1d ? 1 : g.strides[h], a.stride_w = g.strides[wi];
    a.dilation_h = is_1d ? 1 : g.dilations[h], a.dilation_w = g.dilations[wi];
    a.pad_h = is_1d ? 0 : g.pad_begin[h], a.pad_w = g.pad_begin[wi];
    a.ep = ep_;
    return conv2d(a, tactics_.kernel(), tactics_.mma(), ctx.stream());
  }

 private:
  cpu::WindowAttrs attrs_;
  int64_t group_ = 1;
  Epilogue ep_;
  GemmTactics tactics_;
};

struct Conv : ConvKernel {
  explicit Conv(const CudaKernelInfo& info) : ConvKernel(info, false) {}
};
struct FusedConv : ConvKernel {
  explicit FusedConv(const CudaKernelInfo& info) : ConvKernel(info, true) {}
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Conv", Conv);
HS_REGISTER_CUDA_KERNEL("hs", "FusedConv", FusedConv);

}  // namespace hs::cuda::ops
