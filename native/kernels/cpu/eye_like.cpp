// EyeLike: a 2-D tensor of the input's shape, ones on diagonal k (column - row = k), zero
// elsewhere, of the dtype attribute's type (default the input's).
#include <algorithm>
#include <cstring>

#include "kernels/cpu/common.h"

namespace hs::cpu {
namespace {

class EyeLike final : public KernelBase {
 public:
  explicit EyeLike(const KernelInfo& info) : k_(info.node.attr_int("k", 0)) {
    const int64_t t = info.node.attr_int("dtype", 0);
    if (t != 0 && !dtype_from_onnx((int32_t)t, &dtype_))
      init_status = Status(StatusCode::kType, str_cat("EyeLike: dtype ", t, " is not supported"));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "EyeLike", &x));
    if (x->rank() != 2) HS_FAIL(kShape, "EyeLike: the input must be 2-D, got shape ", x->shape());
    const DType type = dtype_ == DType::kUndefined ? x->dtype() : dtype_;
    Tensor* y = ctx.output(0, type, x->shape());
    std::memset(y->raw(), 0, y->nbytes());
    return dispatch(type, kAll, "EyeLike", [&](auto tag) -> Status {
      using T = decltype(tag);
      T one;
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) one = from_float<T>(1.f);
      else one = T(1);
      const int64_t rows = x->dim(0), cols = x->dim(1);
      const int64_t k = std::clamp<int64_t>(k_, -rows, cols);  // further out: no diagonal either way
      T* d = y->data<T>();
      for (int64_t r = 0; r < rows; ++r)
        if (r + k >= 0 && r + k < cols) d[r * cols + r + k] = one;
      return Status::ok();
    });
  }

 private:
  int64_t k_;
  DType dtype_ = DType::kUndefined;
};

}  // namespace

HS_REGISTER_KERNEL("", "EyeLike", EyeLike);

}  // namespace hs::cpu
