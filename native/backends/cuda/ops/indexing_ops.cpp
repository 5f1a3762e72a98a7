// GatherElements, ScatterElements (and opset 9's Scatter), GatherND, ScatterND, OneHot and CumSum
// on CUDA (indexing.cuh), with the CPU kernels' shape rules checked before any launch so that no
// kernel reads or writes outside its tensors. Scatters copy data into the output first, then
// write (or, with reduction 'add', atomically add) the updates; 'mul', 'max' and 'min' stay on the
// CPU. An index out of range fails the run with the device's error flag.
#include <cstring>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/indexing.cuh"

namespace hs::cuda::ops {
namespace {

Status require_indices(const CudaKernelInfo& info, size_t i) { return require_dtype(info, i, {DType::kInt64, DType::kInt32}); }

// The gathers' gate: data of a movable dtype, indices at input 1.
Status require_gather(const CudaKernelInfo& info) {
  HS_RETURN_IF_ERROR(require_numeric(info, 0));
  return require_indices(info, 1);
}

Status device_indices(const DeviceTensor* t, IndexTensor* out) {
  if (!t) HS_FAIL(kInvalidModel, "indices are required");
  if (t->dtype != DType::kInt64 && t->dtype != DType::kInt32) HS_FAIL(kType, "indices must be int32 or int64, got ", dtype_name(t->dtype));
  *out = IndexTensor{t->data, t->dtype == DType::kInt64};
  return Status::ok();
}

Status parse_reduction(const CudaKernelInfo& info, ScatterReduction* out) {
  const std::string r = info.node.attr_string("reduction", "none");
  if (r == "none") *out = ScatterReduction::kNone;
  else if (r == "add") *out = ScatterReduction::kAdd;
  else HS_FAIL(kUnsupportedOp, "reduction '", r, "' is not on CUDA");
  if (*out == ScatterReduction::kAdd) return require_dtype(info, 0, {DType::kFloat32, DType::kInt32, DType::kInt64});
  return require_numeric(info, 0);
}

// The element-wise indexing of `indices` into `data` along `axis`, after the shape checks.
Status axis_indexing(const char* op, const Shape& data, const Shape& indices, int64_t axis_attr, AxisIndexing* ix) {
  const int64_t rank = (int64_t)data.size(), axis = normalize_axis(axis_attr, rank);
  if (axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, op, ": axis ", axis_attr, " is out of range for rank ", rank);
  bool fits = indices.size() == data.size();
  for (int64_t d = 0; fits && d < rank; ++d) fits = d == axis || indices[(size_t)d] <= data[(size_t)d];
  if (!fits) HS_FAIL(kShape, op, ": indices of shape ", indices, " do not fit data of shape ", data, " along axis ", axis);
  HS_RETURN_IF_ERROR(index_space(indices, &ix->space));
  ix->data_strides = contiguous_strides(data);
  ix->axis_stride = ix->data_strides.s[axis];
  ix->axis_dim = data[(size_t)axis];
  ix->data_strides.s[axis] = 0;
  return Status::ok();
}

// The scatters' gate: a reduction the device has, for data of a dtype it takes, and indices.
Status require_scatter(const CudaKernelInfo& info, ScatterReduction* reduction) {
  HS_RETURN_IF_ERROR(parse_reduction(info, reduction));
  return require_indices(info, 1);
}

// The scatters' operands: data, indices and updates of data's dtype.
struct ScatterOperands {
  const DeviceTensor* data;
  const DeviceTensor* updates;
  IndexTensor indices;
  const Shape* index_shape;
};

Status scatter_operands(CudaKernelContext& ctx, const char* op, ScatterOperands* s) {
  s->data = ctx.input(0);
  s->updates = ctx.input(2);
  if (!s->data || !s->updates) HS_FAIL(kInvalidModel, op, " needs data and updates");
  HS_RETURN_IF_ERROR(device_indices(ctx.input(1), &s->indices));
  s->index_shape = &ctx.input(1)->shape;
  if (s->updates->dtype != s->data->dtype)
    HS_FAIL(kType, op, ": updates are ", dtype_name(s->updates->dtype), ", data is ", dtype_name(s->data->dtype));
  return Status::ok();
}

// Output = a copy of data, for the scatters to write into.
Result<DeviceTensor*> copy_of(CudaKernelContext& ctx, const DeviceTensor* data) {
  auto y = ctx.output(0, data->dtype, data->shape);
  if (!y.is_ok()) return y.status();
  if (data->nbytes())
    HS_CUDA_CHECK(cudaMemcpyAsync(y.value()->data, data->data, data->nbytes(), cudaMemcpyDeviceToDevice, ctx.stream()));
  return y.value();
}

class GatherElements : public CudaKernelBase {
 public:
  explicit GatherElements(const CudaKernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {
    init_status = require_gather(info);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* data = ctx.input(0);
    IndexTensor indices;
    if (!data) HS_FAIL(kInvalidModel, "GatherElements needs data");
    HS_RETURN_IF_ERROR(device_indices(ctx.input(1), &indices));
    AxisIndexing ix;
    HS_RETURN_IF_ERROR(axis_indexing("GatherElements", data->shape, ctx.input(1)->shape, axis_, &ix));
    auto y = ctx.output(0, data->dtype, ctx.input(1)->shape);
    if (!y.is_ok()) return y.status();
    return gather_elements(dtype_size(data->dtype), data->data, indices, y.value()->data, ix, ctx.error_flag(), ctx.stream());
  }

 private:
  int64_t axis_;
};

class ScatterElements : public CudaKernelBase {
 public:
  explicit ScatterElements(const CudaKernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {
    init_status = require_scatter(info, &reduction_);
  }

  Status compute(CudaKernelContext& ctx) const override {
    ScatterOperands op;
    HS_RETURN_IF_ERROR(scatter_operands(ctx, "ScatterElements", &op));
    if (op.updates->shape != *op.index_shape)
      HS_FAIL(kShape, "ScatterElements: updates of shape ", op.updates->shape, " differ from indices of shape ", *op.index_shape);
    AxisIndexing ix;
    HS_RETURN_IF_ERROR(axis_indexing("ScatterElements", op.data->shape, op.updates->shape, axis_, &ix));
    auto y = copy_of(ctx, op.data);
    if (!y.is_ok()) return y.status();
    return scatter_elements(op.data->dtype, op.updates->data, op.indices, y.value()->data, ix, reduction_, ctx.error_flag(),
                            ctx.stream());
  }

 private:
  int64_t axis_;
  ScatterReduction reduction_ = ScatterReduction::kNone;
};

// The slices that index tuples of `indices` (the last axis) address in `data` after `batch` axes.
Status nd_indexing(const char* op, const Shape& data, const Shape& indices, int64_t batch, NdIndexing* ix) {
  const int64_t r = (int64_t)data.size(), q = (int64_t)indices.size();
  if (q < 1 || batch < 0 || batch >= std::min(r, q))
    HS_FAIL(kShape, op, ": batch_dims ", batch, " does not fit data rank ", r, " and indices rank ", q);
  const int64_t k = indices.back();
  if (k < 1 || k > r - batch || k > kMaxDims) HS_FAIL(kShape, op, ": index tuples of length ", k, " do not fit data of rank ", r);
  for (int64_t d = 0; d < batch; ++d)
    if (indices[(size_t)d] != data[(size_t)d]) HS_FAIL(kShape, op, ": batch dimensions of indices ", indices, " and data ", data, " differ");
  const Strides strides = contiguous_strides(data);
  ix->depth = (int)k;
  for (int64_t j = 0; j < k; ++j) ix->dims[j] = data[(size_t)(batch + j)], ix->dim_strides[j] = strides.s[batch + j];
  ix->slice = shape_numel(Shape(data.begin() + batch + k, data.end()));
  ix->rows = shape_numel(Shape(indices.begin(), indices.end() - 1));
  ix->rows_per_batch = std::max<int64_t>(1, shape_numel(Shape(indices.begin() + batch, indices.end() - 1)));
  ix->batch_stride = batch > 0 ? strides.s[batch - 1] : 0;
  return Status::ok();
}

class GatherND : public CudaKernelBase {
 public:
  explicit GatherND(const CudaKernelInfo& info) : batch_dims_(info.node.attr_int("batch_dims", 0)) {
    init_status = require_gather(info);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* data = ctx.input(0);
    IndexTensor indices;
    if (!data) HS_FAIL(kInvalidModel, "GatherND needs data");
    HS_RETURN_IF_ERROR(device_indices(ctx.input(1), &indices));
    const Shape& index_shape = ctx.input(1)->shape;
    NdIndexing ix;
    HS_RETURN_IF_ERROR(nd_indexing("GatherND", data->shape, index_shape, batch_dims_, &ix));
    Shape out(index_shape.begin(), index_shape.end() - 1);
    out.insert(out.end(), data->shape.begin() + batch_dims_ + ix.depth, data->shape.end());
    auto y = ctx.output(0, data->dtype, out);
    if (!y.is_ok()) return y.status();
    return gather_nd(dtype_size(data->dtype), data->data, indices, y.value()->data, ix, ctx.error_flag(), ctx.stream());
  }

 private:
  int64_t batch_dims_;
};

class ScatterND : public CudaKernelBase {
 public:
  explicit ScatterND(const CudaKernelInfo& info) { init_status = require_scatter(info, &reduction_); }

  Status compute(CudaKernelContext& ctx) const override {
    ScatterOperands op;
    HS_RETURN_IF_ERROR(scatter_operands(ctx, "ScatterND", &op));
    NdIndexing ix;
    HS_RETURN_IF_ERROR(nd_indexing("ScatterND", op.data->shape, *op.index_shape, 0, &ix));
    Shape expected(op.index_shape->begin(), op.index_shape->end() - 1);
    expected.insert(expected.end(), op.data->shape.begin() + ix.depth, op.data->shape.end());
    if (op.updates->shape != expected) HS_FAIL(kShape, "ScatterND: updates must have shape ", expected, ", got ", op.updates->shape);
    auto y = copy_of(ctx, op.data);
    if (!y.is_ok()) return y.status();
    return scatter_nd(op.data->dtype, op.updates->data, op.indices, y.value()->data, ix, reduction_, ctx.error_flag(), ctx.stream());
  }

 private:
  ScatterReduction reduction_ = ScatterReduction::kNone;
};

// OneHot with int32/int64 indices on the device; depth and the [off, on] values read on the host.
class OneHot : public CudaKernelBase {
 public:
  explicit OneHot(const CudaKernelInfo& info) : axis_(info.node.attr_int("axis", -1)) {
    init_status = require_indices(info, 0);
    if (init_status.is_ok()) init_status = require_numeric(info, 2);
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }
  DType output_dtype(int, const std::vector<DType>& inputs) const override { return inputs.size() > 2 ? inputs[2] : DType::kUndefined; }

  Status compute(CudaKernelContext& ctx) const override {
    IndexTensor indices;
    HS_RETURN_IF_ERROR(device_indices(ctx.input(0), &indices));
    const Tensor* depth_t = ctx.host_input(1);
    const Tensor* values = ctx.host_input(2);
    if (!depth_t || !values) HS_FAIL(kInvalidModel, "OneHot needs depth and values");
    if (depth_t->numel() != 1 || dtype_size(depth_t->dtype()) == 0 || depth_t->dtype() == DType::kFloat16 || depth_t->dtype() == DType::kBFloat16)
      HS_FAIL(kShape, "OneHot: depth must be one number, got ", dtype_name(depth_t->dtype()), " of shape ", depth_t->shape());
    if (values->numel() != 2) HS_FAIL(kShape, "OneHot: values must have two elements, got shape ", values->shape());
    const int64_t depth = depth_t->to_int64_vector()[0];
    if (depth < 1) HS_FAIL(kInvalidArgument, "OneHot: depth ", depth, " must be positive");
    const Shape& index_shape = ctx.input(0)->shape;
    const int64_t out_rank = (int64_t)index_shape.size() + 1;
    if (axis_ < -out_rank || axis_ >= out_rank) HS_FAIL(kInvalidArgument, "OneHot: axis ", axis_, " is out of range for output rank ", out_rank);
    const int64_t axis = axis_ < 0 ? axis_ + out_rank : axis_;
    Shape out = index_shape;
    out.insert(out.begin() + axis, depth);
    auto y = ctx.output(0, values->dtype(), out);
    if (!y.is_ok()) return y.status();
    const size_t esize = dtype_size(values->dtype());
    uint64_t off = 0, on = 0;
    std::memcpy(&off, values->raw(), esize);
    std::memcpy(&on, static_cast<const char*>(values->raw()) + esize, esize);
    const int64_t inner = shape_numel(Shape(index_shape.begin() + axis, index_shape.end()));
    const int64_t outer = shape_numel(Shape(index_shape.begin(), index_shape.begin() + axis));
    return one_hot(esize, indices, y.value()->data, outer, depth, inner, on, off, ctx.stream());
  }

 private:
  int64_t axis_;
};

class CumSum : public CudaKernelBase {
 public:
  explicit CumSum(const CudaKernelInfo& info)
      : exclusive_(info.node.attr_int("exclusive", 0) != 0), reverse_(info.node.attr_int("reverse", 0) != 0) {
    init_status = require_dtype(info, 0, {DType::kFloat32, DType::kInt32, DType::kInt64});
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const Tensor* axis_t = ctx.host_input(1);
    if (!x || !axis_t) HS_FAIL(kInvalidModel, "CumSum needs x and axis");
    if ((axis_t->dtype() != DType::kInt64 && axis_t->dtype() != DType::kInt32) || axis_t->numel() != 1 || axis_t->rank() > 1)
      HS_FAIL(kType, "CumSum: axis must be an int32 or int64 scalar");
    const int64_t rank = x->rank(), axis = normalize_axis(axis_t->to_int64_vector()[0], rank);
    if (axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, "CumSum: axis is out of range for rank ", rank);
    auto y = ctx.output(0, x->dtype, x->shape);
    if (!y.is_ok()) return y.status();
    const int64_t outer = shape_numel(Shape(x->shape.begin(), x->shape.begin() + axis));
    const int64_t inner = shape_numel(Shape(x->shape.begin() + axis + 1, x->shape.end()));
    return cumsum(x->dtype, x->data, y.value()->data, outer, x->shape[(size_t)axis], inner, exclusive_, reverse_, ctx.stream());
  }

 private:
  bool exclusive_, reverse_;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "GatherElements", GatherElements);
HS_REGISTER_CUDA_KERNEL("", "ScatterElements", ScatterElements);
HS_REGISTER_CUDA_KERNEL("", "Scatter", ScatterElements);
HS_REGISTER_CUDA_KERNEL("", "GatherND", GatherND);
HS_REGISTER_CUDA_KERNEL("", "ScatterND", ScatterND);
HS_REGISTER_CUDA_KERNEL("", "OneHot", OneHot);
HS_REGISTER_CUDA_KERNEL("", "CumSum", CumSum);

}  // namespace hs::cuda::ops
