// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare,
// ReduceLogSumExp on CUDA, float32, over any axis set: the kept axes index the outputs, the reduced
// axes the elements each output folds (reduce.cuh). Axes come from the attribute before opset 13
// (ReduceSum) / 18 (the others), else from the optional second input, read on the host. And ArgMax /
// ArgMin (float32 in, int64 out), and Hardmax (an ArgMax, then a one-hot row of 1.0 / 0.0).
#include <algorithm>
#include <set>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cuda/indexing.cuh"
#include "kernels/cuda/reduce.cuh"

namespace hs::cuda::ops {
namespace {

template <ReduceOp Op>
class ReduceKernel : public CudaKernelBase {
 public:
  explicit ReduceKernel(const CudaKernelInfo& info) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    keepdims_ = info.node.attr_int("keepdims", 1) != 0;
    noop_with_empty_axes_ = info.node.attr_int("noop_with_empty_axes", 0) != 0;
    axes_from_input_ = info.opset >= (Op == ReduceOp::kSum ? 13 : 18);
    attr_axes_ = info.node.attr_ints("axes");
  }

  Access input_access(int input) const override { return input == 1 ? Access::kHost : Access::kDevice; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "data"));
    std::vector<int64_t> axes = attr_axes_;
    if (axes_from_input_) {
      const Tensor* t = ctx.num_inputs() > 1 ? ctx.host_input(1) : nullptr;
      axes = t ? t->to_int64_vector() : std::vector<int64_t>{};
    }
    const int64_t rank = x->rank();
    std::set<int64_t> reduced;
    for (int64_t a : axes) {
      const int64_t n = normalize_axis(a, rank);
      if (n < 0 || n >= rank) HS_FAIL(kInvalidArgument, "axis ", a, " is out of range for rank ", rank);
      reduced.insert(n);
    }
    if (axes.empty() && !noop_with_empty_axes_)
      for (int64_t d = 0; d < rank; ++d) reduced.insert(d);
    ReduceArgs a;
    a.op = Op;
    Shape out;
    const Strides in_strides = contiguous_strides(x->shape);
    if (rank > kMaxDims) HS_FAIL(kShape, "rank ", rank, " exceeds the CUDA kernels' ", kMaxDims);
    for (int64_t d = 0; d < rank; ++d) {
      if (reduced.count(d)) {
        a.reduced.dims[a.reduced.rank] = x->shape[d];
        a.reduced_strides.s[a.reduced.rank++] = in_strides.s[d];
        if (keepdims_) out.push_back(1);
      } else {
        a.kept.dims[a.kept.rank] = x->shape[d];
        a.kept_strides.s[a.kept.rank++] = in_strides.s[d];
        out.push_back(x->shape[d]);
      }
    }
    auto y = ctx.output(0, DType::kFloat32, out);
    if (!y.is_ok()) return y.status();
    a.x = x->as<float>(), a.y = y.value()->as<float>();
    return reduce_f32(a, ctx.stream());
  }

 private:
  bool keepdims_ = true, noop_with_empty_axes_ = false, axes_from_input_ = false;
  std::vector<int64_t> attr_axes_;
};

// ArgMax / ArgMin, float32 input, int64 output (argminmax_f32).
template <bool kMax>
class ArgKernel : public CudaKernelBase {
 public:
  explicit ArgKernel(const CudaKernelInfo& info)
      : axis_(info.node.attr_int("axis", 0)), keepdims_(info.node.attr_int("keepdims", 1) != 0),
        select_last_(info.node.attr_int("select_last_index", 0) != 0) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
  }
  DType output_dtype(int, const std::vector<DType>&) const override { return DType::kInt64; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "data"));
    const int64_t rank = x->rank(), axis = normalize_axis(axis_, std::max<int64_t>(rank, 1));
    if (axis < 0 || axis >= std::max<int64_t>(rank, 1)) HS_FAIL(kInvalidArgument, "axis ", axis_, " is out of range for rank ", rank);
    const int64_t axis_len = rank ? x->shape[(size_t)axis] : 1;
    const int64_t outer = rank ? shape_numel(Shape(x->shape.begin(), x->shape.begin() + axis)) : 1;
    const int64_t inner = rank ? shape_numel(Shape(x->shape.begin() + axis + 1, x->shape.end())) : 1;
    if (axis_len == 0 && outer * inner > 0) HS_FAIL(kShape, "axis ", axis_, " of shape ", x->shape, " is empty");
    Shape out = x->shape;
    if (rank && keepdims_) out[(size_t)axis] = 1;
    else if (rank) out.erase(out.begin() + axis);
    auto y = ctx.output(0, DType::kInt64, out);
    if (!y.is_ok()) return y.status();
    return argminmax_f32(x->as<float>(), outer, axis_len, inner, kMax, select_last_, y.value()->as<int64_t>(), ctx.stream());
  }

 private:
  int64_t axis_;
  bool keepdims_, select_last_;
};

// Hardmax: before opset 13 the input flattened to 2-D at `axis` (default 1), from 13 the single
// axis (default -1); 1 at the first maximum of each row, 0 elsewhere.
class Hardmax : public CudaKernelBase {
 public:
  explicit Hardmax(const CudaKernelInfo& info) : flatten_(info.opset < 13) {
    axis_ = info.node.attr_int("axis", flatten_ ? 1 : -1);
    init_status = require_dtype(info, 0, {DType::kFloat32});
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input"));
    const int64_t rank = x->rank(), axis = normalize_axis(axis_, rank);
    if (axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, "Hardmax: axis ", axis_, " is out of range for rank ", rank);
    const int64_t outer = shape_numel(Shape(x->shape.begin(), x->shape.begin() + axis));
    const int64_t axis_len = flatten_ ? shape_numel(Shape(x->shape.begin() + axis, x->shape.end())) : x->shape[(size_t)axis];
    const int64_t inner = flatten_ ? 1 : shape_numel(Shape(x->shape.begin() + axis + 1, x->shape.end()));
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    if (x->numel() == 0) return Status::ok();
    auto at = ctx.scratch((size_t)(outer * inner) * sizeof(int64_t));
    if (!at.is_ok()) return at.status();
    int64_t* positions = static_cast<int64_t*>(at.value());
    HS_RETURN_IF_ERROR(argminmax_f32(x->as<float>(), outer, axis_len, inner, true, false, positions, ctx.stream()));
    return one_hot(sizeof(float), IndexTensor{positions, true}, y.value()->data, outer, axis_len, inner, float_bits(1.f), 0,
                   ctx.stream());
  }

 private:
  bool flatten_;
  int64_t axis_;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Hardmax", Hardmax);
HS_REGISTER_CUDA_KERNEL("", "ArgMax", ArgKernel<true>);
HS_REGISTER_CUDA_KERNEL("", "ArgMin", ArgKernel<false>);
HS_REGISTER_CUDA_KERNEL("", "ReduceSum", ReduceKernel<ReduceOp::kSum>);
HS_REGISTER_CUDA_KERNEL("", "ReduceMean", ReduceKernel<ReduceOp::kMean>);
HS_REGISTER_CUDA_KERNEL("", "ReduceMax", ReduceKernel<ReduceOp::kMax>);
HS_REGISTER_CUDA_KERNEL("", "ReduceMin", ReduceKernel<ReduceOp::kMin>);
HS_REGISTER_CUDA_KERNEL("", "ReduceProd", ReduceKernel<ReduceOp::kProd>);
HS_REGISTER_CUDA_KERNEL("", "ReduceL1", ReduceKernel<ReduceOp::kL1>);
HS_REGISTER_CUDA_KERNEL("", "ReduceL2", ReduceKernel<ReduceOp::kL2>);
HS_REGISTER_CUDA_KERNEL("", "ReduceSumSquare", ReduceKernel<ReduceOp::kSumSquare>);
HS_REGISTER_CUDA_KERNEL("", "ReduceLogSumExp", ReduceKernel<ReduceOp::kLogSumExp>);

}  // namespace hs::cuda::ops
