// NonZero and Compress: outputs whose size depends on the data.
//   NonZero(X): int64 [rank, count], the indices of X's non-zero elements in row-major order (a
//   scalar counts as shape [1], as numpy's nonzero does).
//   Compress(X, condition): the slices of X along `axis` (X flattened without it) whose condition
//   is true; a condition shorter than the axis drops the rest.
// Algorithm: one pass finds the selected positions, a second copies; serial (memory-bound, and
// both are rare and small in inference graphs).
#include <cstring>
#include <vector>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

class NonZero final : public KernelBase {
 public:
  explicit NonZero(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "NonZero", &x));
    std::vector<int64_t> hits;
    HS_RETURN_IF_ERROR(dispatch(x->dtype(), kAll, "NonZero", [&](auto tag) -> Status {
      using T = decltype(tag);
      const T* d = x->data<T>();
      for (int64_t i = 0; i < x->numel(); ++i)
        if (to_double(d[i]) != 0) hits.push_back(i);
      return Status::ok();
    }));
    const Shape shape = x->rank() == 0 ? Shape{1} : x->shape();
    const int64_t rank = (int64_t)shape.size(), count = (int64_t)hits.size();
    int64_t* y = ctx.output(0, DType::kInt64, {rank, count})->data<int64_t>();
    for (int64_t h = 0; h < count; ++h) {
      int64_t flat = hits[(size_t)h];
      for (int64_t d = rank - 1; d >= 0; --d) {
        y[d * count + h] = flat % shape[(size_t)d];
        flat /= shape[(size_t)d];
      }
    }
    return Status::ok();
  }

 private:
  template <typename T> static double to_double(T v) {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return (double)to_float(v);
    else return (double)v;
  }
};

class Compress final : public KernelBase {
 public:
  explicit Compress(const KernelInfo& info) : has_axis_(info.node.attr("axis") != nullptr), axis_(info.node.attr_int("axis", 0)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *x, *condition;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Compress", &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Compress", &condition));
    if (condition->dtype() != DType::kBool || condition->rank() != 1)
      HS_FAIL(kType, "Compress: condition must be a 1-D bool tensor, got ", dtype_name(condition->dtype()), " ",
              condition->shape());
    AxisLayout l{1, x->numel(), 1};  // no axis: X flattened
    Shape out_shape{0};
    int64_t axis = 0;
    if (has_axis_) {
      HS_RETURN_IF_ERROR(normalize_axis_of("Compress", axis_, x->rank(), &axis));
      l = layout_around(x->shape(), axis);
      out_shape = x->shape();
    }
    if (condition->dim(0) > l.axis_len)
      HS_FAIL(kShape, "Compress: condition has ", condition->dim(0), " values for an axis of ", l.axis_len);
    const bool* c = condition->data<bool>();
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < condition->dim(0); ++i)
      if (c[i]) kept.push_back(i);
    out_shape[(size_t)axis] = (int64_t)kept.size();
    Tensor* y = ctx.output(0, x->dtype(), out_shape);
    if (y->numel() == 0) return Status::ok();
    const size_t run = (size_t)l.inner * dtype_size(x->dtype());
    if (run == 0) HS_FAIL(kType, "Compress does not support dtype ", dtype_name(x->dtype()));
    const char* src = static_cast<const char*>(x->raw());
    char* dst = static_cast<char*>(y->raw());
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t k : kept) {
        std::memcpy(dst, src + (size_t)(o * l.axis_len + k) * run, run);
        dst += run;
      }
    return Status::ok();
  }

 private:
  bool has_axis_;
  int64_t axis_;
};

}  // namespace

HS_REGISTER_KERNEL("", "NonZero", NonZero);
HS_REGISTER_KERNEL("", "Compress", Compress);

}  // namespace hs::cpu
