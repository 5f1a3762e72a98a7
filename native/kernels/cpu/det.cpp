// Det: the determinant of each square matrix in the last two axes of X ([..., M, M] -> [...]),
// by Gaussian elimination with partial pivoting in double.
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/cpu/common.h"

namespace hs::cpu {
namespace {

double determinant(std::vector<double>& a, int64_t m) {
  double det = 1;
  for (int64_t c = 0; c < m; ++c) {
    int64_t pivot = c;
    for (int64_t r = c + 1; r < m; ++r)
      if (std::abs(a[(size_t)(r * m + c)]) > std::abs(a[(size_t)(pivot * m + c)])) pivot = r;
    if (a[(size_t)(pivot * m + c)] == 0) return 0;
    if (pivot != c) {
      for (int64_t j = 0; j < m; ++j) std::swap(a[(size_t)(c * m + j)], a[(size_t)(pivot * m + j)]);
      det = -det;
    }
    const double p = a[(size_t)(c * m + c)];
    det *= p;
    for (int64_t r = c + 1; r < m; ++r) {
      const double f = a[(size_t)(r * m + c)] / p;
      for (int64_t j = c; j < m; ++j) a[(size_t)(r * m + j)] -= f * a[(size_t)(c * m + j)];
    }
  }
  return det;
}

class Det final : public KernelBase {
 public:
  explicit Det(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Det", &x));
    if (x->rank() < 2 || x->dim(-1) != x->dim(-2)) HS_FAIL(kShape, "Det: X must be [..., M, M], got ", x->shape());
    const int64_t m = x->dim(-1), count = x->numel() / std::max<int64_t>(m * m, 1);
    const Shape y_shape(x->shape().begin(), x->shape().end() - 2);
    return dispatch(x->dtype(), kFloats, "Det", [&](auto tag) -> Status {
      using T = decltype(tag);
      const std::vector<double> xf = x->to_double_vector();
      T* y = ctx.output(0, x->dtype(), y_shape)->data<T>();
      std::vector<double> a;
      for (int64_t i = 0; i < count; ++i) {
        a.assign(xf.begin() + i * m * m, xf.begin() + (i + 1) * m * m);
        const double det = determinant(a, m);
        if constexpr (is_half<T>::value) y[i] = from_float<T>((float)det);
        else y[i] = (T)det;
      }
      return Status::ok();
    });
  }
};

}  // namespace

HS_REGISTER_KERNEL("", "Det", Det);

}  // namespace hs::cpu
