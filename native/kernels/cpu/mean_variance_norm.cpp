// MeanVarianceNormalization: y = (x - mean) / sqrt(variance + 1e-9), mean and (population)
// variance over `axes` (default [0, 2, 3]: per channel of an NCHW tensor).
// Algorithm: each element's statistics slot is its index with the reduced axes dropped; sums in
// double over one pass, then a second pass writes y. Serial: the operator is rare in inference.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

class MeanVarianceNorm final : public KernelBase {
 public:
  explicit MeanVarianceNorm(const KernelInfo& info) : axes_(info.node.attr_ints("axes", {0, 2, 3})) {}

  Status compute(KernelContext& ctx) const override {
    const char* op = "MeanVarianceNormalization";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    std::vector<int64_t> axes = axes_;
    HS_RETURN_IF_ERROR(normalize_axes(&axes, x->rank(), op));
    // slot_stride[d]: how far one step along axis d moves the statistics slot (0 on reduced axes).
    const Shape& shape = x->shape();
    std::vector<int64_t> slot_stride(shape.size(), 0);
    int64_t slots = 1;
    for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d)
      if (std::find(axes.begin(), axes.end(), d) == axes.end()) {
        slot_stride[(size_t)d] = slots;
        slots *= shape[(size_t)d];
      }
    std::vector<int64_t> slot_of((size_t)x->numel());
    std::vector<int64_t> index(shape.size(), 0);
    for (int64_t e = 0, slot = 0; e < x->numel(); ++e) {
      slot_of[(size_t)e] = slot;
      for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {  // odometer step, slot kept in step
        slot += slot_stride[(size_t)d];
        if (++index[(size_t)d] < shape[(size_t)d]) break;
        slot -= slot_stride[(size_t)d] * shape[(size_t)d];
        index[(size_t)d] = 0;
      }
    }
    return dispatch(x->dtype(), kFloats, op, [&](auto tag) -> Status {
      using T = decltype(tag);
      const std::vector<double> xf = x->to_double_vector();
      std::vector<double> sum((size_t)slots, 0.0), squares((size_t)slots, 0.0), count((size_t)slots, 0.0);
      for (size_t e = 0; e < xf.size(); ++e) {
        sum[(size_t)slot_of[e]] += xf[e];
        count[(size_t)slot_of[e]] += 1;
      }
      for (size_t e = 0; e < xf.size(); ++e) {
        const double d = xf[e] - sum[(size_t)slot_of[e]] / count[(size_t)slot_of[e]];
        squares[(size_t)slot_of[e]] += d * d;
      }
      T* y = ctx.output(0, x->dtype(), shape)->data<T>();
      for (size_t e = 0; e < xf.size(); ++e) {
        const size_t s = (size_t)slot_of[e];
        const double v = (xf[e] - sum[s] / count[s]) / std::sqrt(squares[s] / count[s] + 1e-9);
        if constexpr (is_half<T>::value) y[e] = from_float<T>((float)v);
        else y[e] = (T)v;
      }
      return Status::ok();
    });
  }

 private:
  std::vector<int64_t> axes_;
};

}  // namespace

HS_REGISTER_KERNEL("", "MeanVarianceNormalization", MeanVarianceNorm);

}  // namespace hs::cpu
