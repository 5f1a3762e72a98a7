// TopK on CUDA (topk.cuh) for float32, int32 and int64 rows, with k known at build time (the
// attribute before opset 10, a constant input after) and at most kTopKMaxK: a k read from the
// device, or a larger one, keeps the node on the CPU, whose kernel takes any k.
#include "backends/cuda/ops/op_common.h"
#include "kernels/cuda/topk.cuh"

namespace hs::cuda::ops {
namespace {

class TopK : public CudaKernelBase {
 public:
  explicit TopK(const CudaKernelInfo& info)
      : axis_(info.node.attr_int("axis", -1)), largest_(info.node.attr_int("largest", 1) != 0) {
    init_status = require_dtype(info, 0, {DType::kFloat32, DType::kInt32, DType::kInt64});
    if (!init_status.is_ok()) return;
    if (info.opset < 10) {
      k_ = info.node.attr_int("k", -1);
    } else {
      const Tensor* k = info.constant_input(1);
      if (!k || k->dtype() != DType::kInt64 || k->numel() != 1) {
        HS_CUDA_UNSUPPORTED("K must be a one-element int64 constant for the CUDA kernel");
        return;
      }
      k_ = k->data<int64_t>()[0];
    }
    if (k_ < 0 || k_ > kTopKMaxK) HS_CUDA_UNSUPPORTED("k = ", k_, " is outside the CUDA kernel's [0, ", kTopKMaxK, "]");
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }
  DType output_dtype(int output, const std::vector<DType>& inputs) const override {
    return output == 1 ? DType::kInt64 : CudaKernelBase::output_dtype(output, inputs);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "TopK needs X");
    const int64_t rank = x->rank(), axis = normalize_axis(axis_, rank);
    if (axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, "TopK: axis ", axis_, " is out of range for rank ", rank);
    if (k_ > x->shape[(size_t)axis])
      HS_FAIL(kInvalidArgument, "TopK: k=", k_, " is outside [0, ", x->shape[(size_t)axis], "] for axis ", axis_, " of shape ", x->shape);
    Shape out = x->shape;
    out[(size_t)axis] = k_;
    const int64_t n = shape_numel(out);
    void* values = nullptr;
    void* indices = nullptr;
    for (int i = 0; i < 2; ++i) {
      const DType dtype = i == 0 ? x->dtype : DType::kInt64;
      void*& dst = i == 0 ? values : indices;
      if (ctx.output_wanted(i)) {
        auto y = ctx.output(i, dtype, out);
        if (!y.is_ok()) return y.status();
        dst = y.value()->data;
      } else {
        auto s = ctx.scratch((size_t)n * dtype_size(dtype));
        if (!s.is_ok()) return s.status();
        dst = s.value();
      }
    }
    const int64_t outer = shape_numel(Shape(x->shape.begin(), x->shape.begin() + axis));
    const int64_t inner = shape_numel(Shape(x->shape.begin() + axis + 1, x->shape.end()));
    return top_k(x->dtype, x->data, values, static_cast<int64_t*>(indices), outer, x->shape[(size_t)axis], inner, k_, largest_,
                 ctx.stream());
  }

 private:
  int64_t axis_;
  bool largest_;
  int64_t k_ = -1;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "TopK", TopK);

}  // namespace hs::cuda::ops
