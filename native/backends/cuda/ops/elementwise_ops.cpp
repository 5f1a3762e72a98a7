// Elementwise operators on CUDA: float32 unary math and activations (with their attributes; Clip's
// bounds read on the host), and binary operators with numpy broadcasting (float32; int32/int64 for
// the arithmetic ones and Mod; Pow also with an integer exponent).
// Max, Min, Sum and Mean take any number of inputs: each further input is combined into the
// running result, alternating between the output and a scratch buffer so the last step writes
// the output and no launch reads what it writes.
#include <cfloat>
#include <cmath>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/common.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/elementwise.cuh"

namespace hs::cuda::ops {
namespace {

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
    if (Op == UnaryOp::kShrink) alpha_ = node.attr_float("lambd", 0.5f), beta_ = node.attr_float("bias", 0.f);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input 0"));
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    return unary_f32(op_, alpha_, beta_, x->as<float>(), y.value()->as<float>(), x->numel(), ctx.stream());
  }

 protected:
  UnaryOp op_ = Op;
  float alpha_ = 0.f, beta_ = 0.f;
};

// Gelu (opset 20): the exact form, or the tanh one with approximate='tanh'.
struct Gelu : UnaryKernel<UnaryOp::kGelu> {
  explicit Gelu(const CudaKernelInfo& info) : UnaryKernel(info) {
    const std::string approximate = info.node.attr_string("approximate", "none");
    if (approximate == "tanh") op_ = UnaryOp::kGeluTanh;
    else if (approximate != "none") HS_CUDA_UNSUPPORTED("Gelu: approximate='", approximate, "'");
  }
};

// Clip: min and max are attributes before opset 11, optional scalar inputs after, read on the host
// at each run (constants are there already; a value made on the device is a counted download).
class Clip : public CudaKernelBase {
 public:
  explicit Clip(const CudaKernelInfo& info) : from_inputs_(info.opset >= 11) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    if (!from_inputs_) min_ = info.node.attr_float("min", -FLT_MAX), max_ = info.node.attr_float("max", FLT_MAX);
    for (size_t i = 1; i < 3 && init_status.is_ok() && from_inputs_; ++i)
      if (info.has_input(i)) init_status = require_dtype(info, i, {DType::kFloat32});
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input 0"));
    float bounds[2] = {min_, max_};
    for (int i = 1; i < 3 && from_inputs_; ++i) {
      const Tensor* t = i < ctx.num_inputs() ? ctx.host_input(i) : nullptr;
      if (!t) continue;
      const char* what = i == 1 ? "min" : "max";
      if (t->dtype() != DType::kFloat32) HS_FAIL(kType, "Clip: ", what, " must be float32, got ", dtype_name(t->dtype()));
      if (t->numel() != 1) HS_FAIL(kShape, "Clip: ", what, " must be a scalar, got shape ", t->shape());
      bounds[i - 1] = t->data<float>()[0];
    }
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    return unary_f32(UnaryOp::kClip, bounds[0], bounds[1], x->as<float>(), y.value()->as<float>(), x->numel(), ctx.stream());
  }

 private:
  bool from_inputs_;
  float min_ = -FLT_MAX, max_ = FLT_MAX;
};

// Pow of float32 X by a float32 or integer exponent; an integer one is converted to float32 first
// (exactly for magnitudes up to 2^24).
class Pow : public CudaKernelBase {
 public:
  explicit Pow(const CudaKernelInfo& info) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    if (init_status.is_ok()) init_status = require_dtype(info, 1, {DType::kFloat32, DType::kInt32, DType::kInt64});
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const DeviceTensor* e = ctx.input(1);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    if (!e) HS_FAIL(kInvalidArgument, "Y is required");
    Shape out;
    HS_RETURN_IF_ERROR(cpu::broadcast_shapes(x->shape, e->shape, &out));
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(out, &space));
    const void* exponent = e->data;
    if (e->dtype != DType::kFloat32) {
      auto s = ctx.scratch((size_t)e->numel() * sizeof(float));
      if (!s.is_ok()) return s.status();
      HS_RETURN_IF_ERROR(cast(e->dtype, e->data, DType::kFloat32, s.value(), e->numel(), ctx.stream()));
      exponent = s.value();
    }
    auto y = ctx.output(0, DType::kFloat32, out);
    if (!y.is_ok()) return y.status();
    return binary(BinaryOp::kPow, DType::kFloat32, x->data, broadcast_strides(x->shape, out), exponent,
                  broadcast_strides(e->shape, out), y.value()->data, space, ctx.stream());
  }
};

template <BinaryOp Op>
class BinaryKernel : public CudaKernelBase {
 public:
  explicit BinaryKernel(const CudaKernelInfo& info) {
    if (info.node.inputs.size() != 2) {
      HS_CUDA_UNSUPPORTED("the CUDA kernel takes exactly two inputs");
      return;
    }
    const bool float_only = Op == BinaryOp::kPRelu;
    const bool logical = Op == BinaryOp::kAnd || Op == BinaryOp::kOr || Op == BinaryOp::kXor;
    init_status = float_only ? require_same_dtype_pair(info, {DType::kFloat32})
                  : logical  ? require_same_dtype_pair(info, {DType::kBool})
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

// Mod: the divisor's sign (integers) or, with fmod = 1, the dividend's (floats and integers).
class Mod : public CudaKernelBase {
 public:
  explicit Mod(const CudaKernelInfo& info) {
    fmod_ = info.node.attr_int("fmod", 0) != 0;
    init_status = fmod_ ? require_same_dtype_pair(info, {DType::kFloat32, DType::kInt32, DType::kInt64})
                        : require_same_dtype_pair(info, {DType::kInt32, DType::kInt64});
  }

  Status compute(CudaKernelContext& ctx) const override {
    BroadcastPair p;
    HS_RETURN_IF_ERROR(broadcast_pair(ctx, &p));
    auto y = ctx.output(0, p.a->dtype, p.out);
    if (!y.is_ok()) return y.status();
    return binary(fmod_ ? BinaryOp::kFmod : BinaryOp::kMod, p.a->dtype, p.a->data, broadcast_strides(p.a->shape, p.out),
                  p.b->data, broadcast_strides(p.b->shape, p.out), y.value()->data, p.space, ctx.stream());
  }

 private:
  bool fmod_ = false;
};

// Max, Min, Sum (kAdd) and Mean (kAdd, then a scale by 1 / inputs) over one or more inputs.
template <BinaryOp Op, bool kMean = false>
class VariadicKernel : public CudaKernelBase {
 public:
  explicit VariadicKernel(const CudaKernelInfo& info) {
    const size_t n = info.node.inputs.size();
    if (n == 0) {
      HS_CUDA_UNSUPPORTED("no inputs");
      return;
    }
    init_status = require_dtype(info, 0, kMean ? std::initializer_list<DType>{DType::kFloat32}
                                               : std::initializer_list<DType>{DType::kFloat32, DType::kInt32, DType::kInt64});
    for (size_t i = 1; i < n && init_status.is_ok(); ++i)
      if (info.input_dtype(i) != info.input_dtype(0))
        HS_CUDA_UNSUPPORTED("inputs of different dtypes (", dtype_name(info.input_dtype(0)), ", ", dtype_name(info.input_dtype(i)), ")");
  }

  Status compute(CudaKernelContext& ctx) const override {
    const int n = ctx.num_inputs();
    std::vector<const DeviceTensor*> in((size_t)n);
    Shape out;
    for (int i = 0; i < n; ++i) {
      in[(size_t)i] = ctx.input(i);
      if (!in[(size_t)i]) HS_FAIL(kInvalidArgument, "input ", i, " is required");
      if (in[(size_t)i]->dtype != in[0]->dtype)
        HS_FAIL(kType, "inputs must share a dtype, got ", dtype_name(in[0]->dtype), " and ", dtype_name(in[(size_t)i]->dtype));
      if (i == 0) out = in[0]->shape;
      else HS_RETURN_IF_ERROR(cpu::broadcast_shapes(Shape(out), in[(size_t)i]->shape, &out));
    }
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(out, &space));
    const DType dtype = in[0]->dtype;
    auto y = ctx.output(0, dtype, out);
    if (!y.is_ok()) return y.status();
    // Writes: one per further input, the copy a lone input needs, and Mean's scale; the last is y.
    const int writes = std::max(n - 1, 1) + (kMean ? 1 : 0);
    void* spare = nullptr;
    if (writes > 1) {
      auto s = ctx.scratch((size_t)shape_numel(out) * dtype_size(dtype));
      if (!s.is_ok()) return s.status();
      spare = s.value();
    }
    int w = 0;
    auto next = [&]() { return ((writes - 1 - w++) % 2 == 0) ? y.value()->data : spare; };
    const Strides full = contiguous_strides(out);
    const void* acc = nullptr;
    if (n == 1) {
      void* dst = next();  // a lone input is copied
      HS_CUDA_CHECK(cudaMemcpyAsync(dst, in[0]->data, in[0]->nbytes(), cudaMemcpyDeviceToDevice, ctx.stream()));
      acc = dst;
    } else {
      for (int i = 1; i < n; ++i) {
        void* dst = next();
        const void* a = i == 1 ? in[0]->data : acc;
        const Strides as = i == 1 ? broadcast_strides(in[0]->shape, out) : full;
        HS_RETURN_IF_ERROR(binary(Op, dtype, a, as, in[(size_t)i]->data, broadcast_strides(in[(size_t)i]->shape, out), dst,
                                  space, ctx.stream()));
        acc = dst;
      }
    }
    if (kMean)
      HS_RETURN_IF_ERROR(unary_f32(UnaryOp::kScale, 1.f / (float)n, 0.f, (const float*)acc, (float*)next(), shape_numel(out),
                                   ctx.stream()));
    return Status::ok();
  }
};

template <ToBoolOp Op>
class ToBoolKernel : public CudaKernelBase {
 public:
  explicit ToBoolKernel(const CudaKernelInfo& info) {
    init_status = require_dtype(info, 0, {Op == ToBoolOp::kNot ? DType::kBool : DType::kFloat32});
    if (Op == ToBoolOp::kIsInf && init_status.is_ok()) {
      const bool pos = info.node.attr_int("detect_positive", 1) != 0, neg = info.node.attr_int("detect_negative", 1) != 0;
      op_ = pos && neg ? ToBoolOp::kIsInf : pos ? ToBoolOp::kIsPosInf : neg ? ToBoolOp::kIsNegInf : ToBoolOp::kIsInf;
      none_ = !pos && !neg;
    }
  }
  DType output_dtype(int, const std::vector<DType>&) const override { return DType::kBool; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, Op == ToBoolOp::kNot ? DType::kBool : DType::kFloat32, "input 0"));
    auto y = ctx.output(0, DType::kBool, x->shape);
    if (!y.is_ok()) return y.status();
    if (none_) {  // IsInf detecting neither sign: all false
      HS_CUDA_CHECK(cudaMemsetAsync(y.value()->data, 0, (size_t)x->numel(), ctx.stream()));
      return Status::ok();
    }
    return to_bool(op_, x->data, y.value()->as<uint8_t>(), x->numel(), ctx.stream());
  }

 private:
  ToBoolOp op_ = Op;
  bool none_ = false;
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
HS_REGISTER_CUDA_KERNEL("", "Clip", Clip);
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
HS_REGISTER_CUDA_KERNEL("", "Gelu", Gelu);
HS_REGISTER_CUDA_KERNEL("", "Shrink", UnaryKernel<UnaryOp::kShrink>);
HS_REGISTER_CUDA_KERNEL("", "Add", BinaryKernel<BinaryOp::kAdd>);
HS_REGISTER_CUDA_KERNEL("", "Sub", BinaryKernel<BinaryOp::kSub>);
HS_REGISTER_CUDA_KERNEL("", "Mul", BinaryKernel<BinaryOp::kMul>);
HS_REGISTER_CUDA_KERNEL("", "Div", BinaryKernel<BinaryOp::kDiv>);
HS_REGISTER_CUDA_KERNEL("", "Pow", Pow);
HS_REGISTER_CUDA_KERNEL("", "PRelu", BinaryKernel<BinaryOp::kPRelu>);
HS_REGISTER_CUDA_KERNEL("", "And", BinaryKernel<BinaryOp::kAnd>);
HS_REGISTER_CUDA_KERNEL("", "Or", BinaryKernel<BinaryOp::kOr>);
HS_REGISTER_CUDA_KERNEL("", "Xor", BinaryKernel<BinaryOp::kXor>);
HS_REGISTER_CUDA_KERNEL("", "Mod", Mod);
HS_REGISTER_CUDA_KERNEL("", "Max", VariadicKernel<BinaryOp::kMax>);
HS_REGISTER_CUDA_KERNEL("", "Min", VariadicKernel<BinaryOp::kMin>);
HS_REGISTER_CUDA_KERNEL("", "Sum", VariadicKernel<BinaryOp::kAdd>);
using MeanKernel = VariadicKernel<BinaryOp::kAdd, true>;
HS_REGISTER_CUDA_KERNEL("", "Mean", MeanKernel);
HS_REGISTER_CUDA_KERNEL("", "Not", ToBoolKernel<ToBoolOp::kNot>);
HS_REGISTER_CUDA_KERNEL("", "IsNaN", ToBoolKernel<ToBoolOp::kIsNaN>);
HS_REGISTER_CUDA_KERNEL("", "IsInf", ToBoolKernel<ToBoolOp::kIsInf>);

}  // namespace hs::cuda::ops
