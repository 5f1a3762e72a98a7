// Where(condition, X, Y): X where condition is true, else Y, all three broadcast (numpy rules).
//
// Algorithm: a three-input broadcast plan (elementwise.h) coalesces the axes, so each segment of
// the output is a loop in which every input has stride 0 or 1; values are moved by element size
// (no arithmetic), so one instantiation serves all dtypes of a width. Parallel over chunks of the
// output.
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

// out[i] = cond[i * sc] ? x[i * sx] : y[i * sy] for i in [0, n); strides 0 or 1.
template <typename E>
void select_segment(const uint8_t* cond, int64_t sc, const E* x, int64_t sx, const E* y, int64_t sy, E* out,
                    int64_t n) {
  if (sc != 0 && sx != 0 && sy != 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = cond[i] ? x[i] : y[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = cond[i * sc] ? x[i * sx] : y[i * sy];
  }
}

class WhereKernel final : public KernelBase {
 public:
  explicit WhereKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *cond, *x, *y;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Where", &cond));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Where", &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, "Where", &y));
    if (cond->dtype() != DType::kBool) HS_FAIL(kType, "Where: condition must be bool, got ", dtype_name(cond->dtype()));
    if (x->dtype() != y->dtype())
      HS_FAIL(kType, "Where: X and Y dtypes differ (", dtype_name(x->dtype()), " and ", dtype_name(y->dtype()), ")");
    Shape out_shape;
    HS_RETURN_IF_ERROR(broadcast_all("Where", {&cond->shape(), &x->shape(), &y->shape()}, &out_shape));
    return dispatch_by_size(x->dtype(), "Where", [&](auto tag) -> Status {
      using E = decltype(tag);
      Tensor* out = ctx.output(0, x->dtype(), out_shape);
      if (out->numel() == 0) return Status::ok();
      const BroadcastPlan<3> plan = plan_broadcast<3>(out_shape, {&cond->shape(), &x->shape(), &y->shape()});
      const uint8_t* c = cond->data<uint8_t>();
      const E* xs = x->data<E>();
      const E* ys = y->data<E>();
      E* dst = out->data<E>();
      const int64_t sc = plan.inner_stride(0), sx = plan.inner_stride(1), sy = plan.inner_stride(2);
      const int64_t rc = row_stride(plan, 0), rx = row_stride(plan, 1), ry = row_stride(plan, 2);
      ctx.pool().parallel_for(plan.numel, kCheapGrain, [&](int64_t begin, int64_t end) {
        for_each_row_run(plan, begin, end,
                         [&](int64_t o, const std::array<int64_t, 3>& off, int64_t rows, int64_t len) {
                           for (int64_t r = 0; r < rows; ++r)
                             select_segment(c + off[0] + r * rc, sc, xs + off[1] + r * rx, sx, ys + off[2] + r * ry,
                                            sy, dst + o + r * len, len);
                         });
      });
      return Status::ok();
    });
  }
};

HS_REGISTER_KERNEL("", "Where", WhereKernel);

}  // namespace
}  // namespace hs::cpu
