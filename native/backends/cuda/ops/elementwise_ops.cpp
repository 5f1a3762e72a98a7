// Elementwise operators on CUDA: float32 unary math and activations (with their attributes), and
// binary operators with numpy broadcasting (float32; int32/int64 for the arithmetic ones).
#include <cfloat>
#include <cmath>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/common.h"
#include "kernels/cuda/elementwise.cuh"

namespace hs::cuda::ops {
namespace {

// Reads a float scalar constant input (Clip's min/max), or keeps `fallback` when omitted.
Status scalar_input(const CudaKernelInfo& info, size_t i, float* value) {
  if (!info.has_input(i)) return Status::ok();
  const Tensor* t = info.constant_input(i);
  if (!t || t->numel() != 1 || t->dtype() != DType::kFloat32)
    HS_FAIL(kUnsupportedOp, "input ", i, " must be a float32 scalar constant for the CUDA kernel");
  *value = t->data<float>()[0];
  return Status::ok();
}

template <UnaryOp Op>
class UnaryKernel : public CudaKernelBase {
 public:
  explicit UnaryKernel(const CudaKernelInfo& info) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    if (!init_status.is_ok()) return;
    const Node& node = info.node;
    if (Op == UnaryOp::kLeakyRelu) alpha_ = node.attr_float("alpha", 0.01f);
    if (Op == UnaryOp::kElu) alpha_ = node.attr_float("alpha", 1.f);
    if (Op == UnaryOp::kHardSigmoid) alpha_ = node.attr_float("alpha", 0.2f), beta_ = node.attr_float("beta", 0.5f);
    if (Op == UnaryOp::kSelu)
      alpha_ = node.attr_float("alpha", 1.67326319217681884765625f), beta_ = node.attr_float("gamma", 1.05070102214813232421875f);
    if (Op == UnaryOp::kCelu || Op == UnaryOp::kThresholdedRelu) alpha_ = node.attr_float("alpha", 1.f);
    if (Op == UnaryOp::kClip) {
      alpha_ = -FLT_MAX, beta_ = FLT_MAX;
      if (info.opset < 11) {
        alpha_ = node.attr_float("min", -FLT_MAX), beta_ = node.attr_float("max", FLT_MAX);
      } else {
        init_status = scalar_input(info, 1, &alpha_);
        if (init_status.is_ok()) init_status = scalar_input(info, 2, &beta_);
      }
    }
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input 0"));
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    return unary_f32(Op, alpha_, beta_, x->as<float>(), y.value()->as<float>(), x->numel(), ctx.stream());
  }

 private:
  float alpha_ = 0.f, beta_ = 0.f;
};

template <BinaryOp Op>
class BinaryKernel : public CudaKernelBase {
 public:
  explicit BinaryKernel(const CudaKernelInfo& info) {
    if (info.node.inputs.size() != 2) {
      HS_CUDA_UNSUPPORTED("the CUDA kernel takes exactly two inputs");
      return;
    }
    const bool float_only = Op == BinaryOp::kPow || Op == BinaryOp::kPRelu;
    init_status = float_only ? require_same_dtype_pair(info, {DType::kFloat32})
                             : require_same_dtype_pair(info, {DType::kFloat32, DType::kInt32, DType::kInt64});
  }

  Status compute(CudaKernelContext& ctx) const override {
    BroadcastPair p;
    HS_RETURN_IF_ERROR(broadcast_pair(ctx, &p));
    // PRelu's slope broadcasts unidirectionally to X.
    if (Op == BinaryOp::kPRelu && p.out != p.a->shape)
      HS_FAIL(kShape, "slope ", p.b->shape, " does not broadcast to X ", p.a->shape);
    auto y = ctx.output(0, p.a->dtype, p.out);
    if (!y.is_ok()) return y.status();
    return binary(Op, p.a->dtype, p.a->data, broadcast_strides(p.a->shape, p.out), p.b->data,
                  broadcast_strides(p.b->shape, p.out), y.value()->data, p.space, ctx.stream());
  }
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Relu", UnaryKernel<UnaryOp::kRelu>);
HS_REGISTER_CUDA_KERNEL("", "Sigmoid", UnaryKernel<UnaryOp::kSigmoid>);
HS_REGISTER_CUDA_KERNEL("", "Tanh", UnaryKernel<UnaryOp::kTanh>);
HS_REGISTER_CUDA_KERNEL("", "Erf", UnaryKernel<UnaryOp::kErf>);
HS_REGISTER_CUDA_KERNEL("", "Sqrt", UnaryKernel<UnaryOp::kSqrt>);
HS_REGISTER_CUDA_KERNEL("", "Exp", UnaryKernel<UnaryOp::kExp>);
HS_REGISTER_CUDA_KERNEL("", "Log", UnaryKernel<UnaryOp::kLog>);
HS_REGISTER_CUDA_KERNEL("", "Abs", UnaryKernel<UnaryOp::kAbs>);
HS_REGISTER_CUDA_KERNEL("", "Neg", UnaryKernel<UnaryOp::kNeg>);
HS_REGISTER_CUDA_KERNEL("", "Reciprocal", UnaryKernel<UnaryOp::kReciprocal>);
HS_REGISTER_CUDA_KERNEL("", "Floor", UnaryKernel<UnaryOp::kFloor>);
HS_REGISTER_CUDA_KERNEL("", "Ceil", UnaryKernel<UnaryOp::kCeil>);
HS_REGISTER_CUDA_KERNEL("", "LeakyRelu", UnaryKernel<UnaryOp::kLeakyRelu>);
HS_REGISTER_CUDA_KERNEL("", "Elu", UnaryKernel<UnaryOp::kElu>);
HS_REGISTER_CUDA_KERNEL("", "HardSigmoid", UnaryKernel<UnaryOp::kHardSigmoid>);
HS_REGISTER_CUDA_KERNEL("", "HardSwish", UnaryKernel<UnaryOp::kHardSwish>);
HS_REGISTER_CUDA_KERNEL("", "Softplus", UnaryKernel<UnaryOp::kSoftplus>);
HS_REGISTER_CUDA_KERNEL("", "Softsign", UnaryKernel<UnaryOp::kSoftsign>);
HS_REGISTER_CUDA_KERNEL("", "Sin", UnaryKernel<UnaryOp::kSin>);
HS_REGISTER_CUDA_KERNEL("", "Cos", UnaryKernel<UnaryOp::kCos>);
HS_REGISTER_CUDA_KERNEL("", "Clip", UnaryKernel<UnaryOp::kClip>);
HS_REGISTER_CUDA_KERNEL("", "Round", UnaryKernel<UnaryOp::kRound>);
HS_REGISTER_CUDA_KERNEL("", "Sign", UnaryKernel<UnaryOp::kSign>);
HS_REGISTER_CUDA_KERNEL("", "Tan", UnaryKernel<UnaryOp::kTan>);
HS_REGISTER_CUDA_KERNEL("", "Asin", UnaryKernel<UnaryOp::kAsin>);
HS_REGISTER_CUDA_KERNEL("", "Acos", UnaryKernel<UnaryOp::kAcos>);
HS_REGISTER_CUDA_KERNEL("", "Atan", UnaryKernel<UnaryOp::kAtan>);
HS_REGISTER_CUDA_KERNEL("", "Sinh", UnaryKernel<UnaryOp::kSinh>);
HS_REGISTER_CUDA_KERNEL("", "Cosh", UnaryKernel<UnaryOp::kCosh>);
HS_REGISTER_CUDA_KERNEL("", "Asinh", UnaryKernel<UnaryOp::kAsinh>);
HS_REGISTER_CUDA_KERNEL("", "Acosh", UnaryKernel<UnaryOp::kAcosh>);
HS_REGISTER_CUDA_KERNEL("", "Atanh", UnaryKernel<UnaryOp::kAtanh>);
HS_REGISTER_CUDA_KERNEL("", "Selu", UnaryKernel<UnaryOp::kSelu>);
HS_REGISTER_CUDA_KERNEL("", "Celu", UnaryKernel<UnaryOp::kCelu>);
HS_REGISTER_CUDA_KERNEL("", "ThresholdedRelu", UnaryKernel<UnaryOp::kThresholdedRelu>);
HS_REGISTER_CUDA_KERNEL("", "Mish", UnaryKernel<UnaryOp::kMish>);
HS_REGISTER_CUDA_KERNEL("", "Add", BinaryKernel<BinaryOp::kAdd>);
HS_REGISTER_CUDA_KERNEL("", "Sub", BinaryKernel<BinaryOp::kSub>);
HS_REGISTER_CUDA_KERNEL("", "Mul", BinaryKernel<BinaryOp::kMul>);
HS_REGISTER_CUDA_KERNEL("", "Div", BinaryKernel<BinaryOp::kDiv>);
HS_REGISTER_CUDA_KERNEL("", "Pow", BinaryKernel<BinaryOp::kPow>);
HS_REGISTER_CUDA_KERNEL("", "Max", BinaryKernel<BinaryOp::kMax>);
HS_REGISTER_CUDA_KERNEL("", "Min", BinaryKernel<BinaryOp::kMin>);
HS_REGISTER_CUDA_KERNEL("", "PRelu", BinaryKernel<BinaryOp::kPRelu>);

}  // namespace hs::cuda::ops
