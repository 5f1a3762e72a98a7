// CumSum: running sums along the axis given by the second input (a scalar or one-element tensor),
// inclusive or `exclusive` (each output leaves out its own element), forwards or in `reverse`.
//
// Algorithm: the input is viewed as [outer, axis_len, inner]; a chunk of up to kChunk inner
// positions keeps one running sum each (float for half types, 64-bit for integers) while the
// axis rows stream past in order, so the inner loop is contiguous and vectorises. Parallel over
// (outer, chunk).
#include <algorithm>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"

namespace hs::cpu {
namespace {

template <typename T>
void cumulative_sum(const T* x, T* y, const AxisLayout& l, bool exclusive, bool reverse, ThreadPool& pool) {
  using A = AccType<T>;
  constexpr int64_t kChunk = 512;
  const int64_t chunk = std::min(l.inner, kChunk);
  const int64_t chunks = (l.inner + chunk - 1) / chunk;
  pool.parallel_for(l.outer * chunks, grain_for(l.axis_len * chunk), [&](int64_t begin, int64_t end) {
    A sums[kChunk];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / chunks, first = (task % chunks) * chunk;
      const int64_t len = std::min(chunk, l.inner - first);
      const int64_t base = o * l.axis_len * l.inner + first;
      for (int64_t i = 0; i < len; ++i) sums[i] = 0;
      for (int64_t step = 0; step < l.axis_len; ++step) {
        const int64_t a = reverse ? l.axis_len - 1 - step : step;
        const T* in = x + base + a * l.inner;
        T* out = y + base + a * l.inner;
        if (exclusive) {
          for (int64_t i = 0; i < len; ++i) {
            out[i] = store_as<T>(sums[i]);
            sums[i] += load_as<A>(in[i]);
          }
        } else {
          for (int64_t i = 0; i < len; ++i) {
            sums[i] += load_as<A>(in[i]);
            out[i] = store_as<T>(sums[i]);
          }
        }
      }
    }
  });
}

class CumSumKernel final : public KernelBase {
 public:
  explicit CumSumKernel(const KernelInfo& info) {
    exclusive_ = info.node.attr_int("exclusive", 0) != 0;
    reverse_ = info.node.attr_int("reverse", 0) != 0;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *x, *axis_tensor;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "CumSum", &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "CumSum", &axis_tensor));
    if (axis_tensor->dtype() != DType::kInt64 && axis_tensor->dtype() != DType::kInt32)
      HS_FAIL(kType, "CumSum: axis must be int32 or int64, got ", dtype_name(axis_tensor->dtype()));
    if (axis_tensor->numel() != 1 || axis_tensor->rank() > 1)
      HS_FAIL(kShape, "CumSum: axis must be a scalar, got shape ", shape_str(axis_tensor->shape()));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("CumSum", axis_tensor->to_int64_vector()[0], x->rank(), &axis));
    const AxisLayout l = layout_around(x->shape(), axis);
    return dispatch(x->dtype(), kNumeric, "CumSum", [&](auto tag) {
      using T = decltype(tag);
      Tensor* y = ctx.output(0, x->dtype(), x->shape());
      if (y->numel() > 0) cumulative_sum(x->data<T>(), y->data<T>(), l, exclusive_, reverse_, ctx.pool());
      return Status::ok();
    });
  }

 private:
  bool exclusive_ = false;
  bool reverse_ = false;
};

HS_REGISTER_KERNEL("", "CumSum", CumSumKernel);

}  // namespace
}  // namespace hs::cpu
