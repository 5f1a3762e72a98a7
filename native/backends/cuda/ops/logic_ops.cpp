// Comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual -> bool), Where and Cast on CUDA:
// what exported models build attention masks and index arithmetic from. Broadcasting as in
// elementwise_ops.cpp; Cast and CastLike between float32, int32, int64 and bool, and float32 and
// float16 / bfloat16.
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/common.h"
#include "kernels/cuda/elementwise.cuh"

namespace hs::cuda::ops {
namespace {

template <CompareOp Op>
class CompareKernel : public CudaKernelBase {
 public:
  explicit CompareKernel(const CudaKernelInfo& info) {
    init_status = require_same_dtype_pair(info, {DType::kFloat32, DType::kInt32, DType::kInt64});
  }
  DType output_dtype(int, const std::vector<DType>&) const override { return DType::kBool; }

  Status compute(CudaKernelContext& ctx) const override {
    BroadcastPair p;
    HS_RETURN_IF_ERROR(broadcast_pair(ctx, &p));
    auto y = ctx.output(0, DType::kBool, p.out);
    if (!y.is_ok()) return y.status();
    return compare(Op, p.a->dtype, p.a->data, broadcast_strides(p.a->shape, p.out), p.b->data,
                   broadcast_strides(p.b->shape, p.out), y.value()->as<uint8_t>(), p.space, ctx.stream());
  }
};

class Where : public CudaKernelBase {
 public:
  explicit Where(const CudaKernelInfo& info) {
    init_status = require_dtype(info, 0, {DType::kBool});
    const DType t = info.input_dtype(1);
    const size_t size = dtype_size(t);
    if (init_status.is_ok() && (t == DType::kUndefined || t == DType::kString || t != info.input_dtype(2) ||
                                (size != 1 && size != 2 && size != 4 && size != 8)))
      HS_CUDA_UNSUPPORTED("X and Y must share a known numeric dtype");
  }
  DType output_dtype(int, const std::vector<DType>& inputs) const override {
    return inputs.size() > 1 ? inputs[1] : DType::kUndefined;
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* c = ctx.input(0);
    const DeviceTensor* x = ctx.input(1);
    const DeviceTensor* y = ctx.input(2);
    HS_RETURN_IF_ERROR(check_dtype(c, DType::kBool, "condition"));
    if (!x || !y || x->dtype != y->dtype) HS_FAIL(kType, "X and Y must be given and share a dtype");
    Shape xy, out;
    HS_RETURN_IF_ERROR(cpu::broadcast_shapes(x->shape, y->shape, &xy));
    HS_RETURN_IF_ERROR(cpu::broadcast_shapes(c->shape, xy, &out));
    IndexSpace space;
    HS_RETURN_IF_ERROR(index_space(out, &space));
    auto z = ctx.output(0, x->dtype, out);
    if (!z.is_ok()) return z.status();
    return where(dtype_size(x->dtype), c->as<uint8_t>(), broadcast_strides(c->shape, out), x->data,
                 broadcast_strides(x->shape, out), y->data, broadcast_strides(y->shape, out), z.value()->data, space,
                 ctx.stream());
  }
};

// Cast to its `to` attribute's dtype; CastLike (below) to input 1's.
class Cast : public CudaKernelBase {
 public:
  explicit Cast(const CudaKernelInfo& info) {
    const Attribute* to = info.node.attr("to");
    if (!to || !dtype_from_onnx((int32_t)to->i, &to_)) {
      HS_CUDA_UNSUPPORTED("attribute 'to' is missing or unknown");
      return;
    }
    check_supported(info);
  }
  DType output_dtype(int, const std::vector<DType>&) const override { return to_; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidArgument, "input is required");
    auto y = ctx.output(0, to_, x->shape);
    if (!y.is_ok()) return y.status();
    return cast(x->dtype, x->data, to_, y.value()->data, x->numel(), ctx.stream());
  }

 protected:
  Cast() = default;
  void check_supported(const CudaKernelInfo& info) {
    if (!cast_supported(info.input_dtype(0), to_))
      HS_CUDA_UNSUPPORTED("Cast from ", dtype_name(info.input_dtype(0)), " to ", dtype_name(to_), " is not on CUDA");
  }
  DType to_ = DType::kUndefined;
};

class CastLike : public Cast {
 public:
  explicit CastLike(const CudaKernelInfo& info) {
    to_ = info.input_dtype(1);
    if (to_ == DType::kUndefined) HS_CUDA_UNSUPPORTED("the dtype of input 1 is unknown at build time");
    else check_supported(info);
  }
  // Only input 1's dtype counts, fixed at build.
  Access input_access(int input) const override { return input == 1 ? Access::kMetadata : Access::kDevice; }
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Equal", CompareKernel<CompareOp::kEqual>);
HS_REGISTER_CUDA_KERNEL("", "Less", CompareKernel<CompareOp::kLess>);
HS_REGISTER_CUDA_KERNEL("", "LessOrEqual", CompareKernel<CompareOp::kLessOrEqual>);
HS_REGISTER_CUDA_KERNEL("", "Greater", CompareKernel<CompareOp::kGreater>);
HS_REGISTER_CUDA_KERNEL("", "GreaterOrEqual", CompareKernel<CompareOp::kGreaterOrEqual>);
HS_REGISTER_CUDA_KERNEL("", "Where", Where);
HS_REGISTER_CUDA_KERNEL("", "Cast", Cast);
HS_REGISTER_CUDA_KERNEL("", "CastLike", CastLike);

}  // namespace hs::cuda::ops
