// OneHot: for indices of shape S, a tensor of shape S with a new axis of length `depth` inserted
// at `axis`, holding values[1] where the position along the new axis equals the index (negative
// indices count from depth; out-of-range ones select nothing) and values[0] elsewhere.
//
// Algorithm: the output, viewed as [outer, depth, inner], is filled with the off value in
// parallel, then one on value is written per index element.
#include <cmath>

#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

// The indices as int64; a fractional float index matches no position, so it becomes `depth`.
std::vector<int64_t> index_values(const Tensor& indices, int64_t depth) {
  if (!is_float(indices.dtype())) return indices.to_int64_vector();
  const std::vector<float> values = indices.to_float_vector();
  std::vector<int64_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = std::floor(values[i]) == values[i] && std::fabs(values[i]) <= (float)depth ? (int64_t)values[i] : depth;
  return out;
}

class OneHotKernel final : public KernelBase {
 public:
  explicit OneHotKernel(const KernelInfo& info) : axis_(info.node.attr_int("axis", -1)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *indices, *depth_t, *values;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "OneHot", &indices));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "OneHot", &depth_t));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, "OneHot", &values));
    for (const Tensor* t : {indices, depth_t})
      if (t->dtype() == DType::kFloat16 || t->dtype() == DType::kBFloat16 || dtype_size(t->dtype()) == 0)
        HS_FAIL(kType, "OneHot: indices and depth of dtype ", dtype_name(t->dtype()), " are not supported");
    if (depth_t->numel() != 1) HS_FAIL(kShape, "OneHot: depth must have one element, got shape ", shape_str(depth_t->shape()));
    if (values->numel() != 2) HS_FAIL(kShape, "OneHot: values must have two elements, got shape ", shape_str(values->shape()));
    const int64_t depth = depth_t->to_int64_vector()[0];
    if (depth < 1) HS_FAIL(kInvalidArgument, "OneHot: depth ", depth, " must be positive");
    const int64_t out_rank = indices->rank() + 1;
    if (axis_ < -out_rank || axis_ >= out_rank)
      HS_FAIL(kInvalidArgument, "OneHot: axis ", axis_, " is out of range for output rank ", out_rank);
    const int64_t axis = axis_ < 0 ? axis_ + out_rank : axis_;
    Shape out_shape = indices->shape();
    out_shape.insert(out_shape.begin() + axis, depth);
    const int64_t inner = shape_numel(Shape(indices->shape().begin() + axis, indices->shape().end()));
    const std::vector<int64_t> idx = index_values(*indices, depth);
    return dispatch_by_size(values->dtype(), "OneHot", [&](auto tag) {
      using T = decltype(tag);
      Tensor* out = ctx.output(0, values->dtype(), out_shape);
      T* dst = out->data<T>();
      const T off = values->data<T>()[0], on = values->data<T>()[1];
      ctx.pool().parallel_for(out->numel(), 1 << 16, [&](int64_t begin, int64_t end) { std::fill(dst + begin, dst + end, off); });
      for (size_t e = 0; e < idx.size(); ++e) {
        const int64_t i = idx[e] < 0 ? idx[e] + depth : idx[e];
        if (i < 0 || i >= depth) continue;
        const int64_t o = (int64_t)e / inner, in = (int64_t)e % inner;
        dst[(o * depth + i) * inner + in] = on;
      }
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
};

HS_REGISTER_KERNEL("", "OneHot", OneHotKernel);

}  // namespace
}  // namespace hs::cpu
