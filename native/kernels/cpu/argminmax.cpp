// ArgMax, ArgMin: the int64 index of the largest / smallest element along one axis.
//
// Algorithm: the input is viewed as [outer, axis_len, inner]. With inner == 1 each contiguous row
// takes a vectorised pass for its best value, then a scan for the value's first (last) position.
// Otherwise a chunk of up to kChunk inner positions keeps a running best value and index per
// position while the axis rows stream past (contiguous, vectorisable), replacing on > / < (first
// index) or >= / <= (select_last_index = 1). Parallel over rows or (outer, chunk).
#include <algorithm>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/vector_extreme.h"

namespace hs::cpu {
namespace {

template <bool kMax, bool kLast, typename A>
inline bool replaces(A candidate, A best) {
  if constexpr (kMax) return kLast ? candidate >= best : candidate > best;
  else return kLast ? candidate <= best : candidate < best;
}

// Index of the best element of one contiguous row (n > 0): a vectorised pass for the best value
// (float/double: NaN-propagating, so a NaN is found as numpy finds it), then a scan for its
// first (or last) position.
template <bool kMax, bool kLast, typename T>
int64_t arg_best_in_row(const T* x, int64_t n) {
  using A = AccType<T>;
  A best = load_as<A>(x[0]);
  if constexpr (std::is_floating_point_v<T>) {
    best = fold_extreme<kMax>(x, n, best);
  } else {
    for (int64_t i = 1; i < n; ++i) {
      const A v = load_as<A>(x[i]);
      best = replaces<kMax, false>(v, best) ? v : best;
    }
  }
  const bool find_nan = best != best;
  auto matches = [&](int64_t k) {
    const A v = load_as<A>(x[k]);
    return find_nan ? v != v : v == best;
  };
  if constexpr (kLast) {
    for (int64_t k = n; k-- > 0;)
      if (matches(k)) return k;
  } else {
    for (int64_t k = 0; k < n; ++k)
      if (matches(k)) return k;
  }
  return 0;
}

template <bool kMax, bool kLast, typename T>
void arg_best(const T* x, int64_t* y, const AxisLayout& l, ThreadPool& pool) {
  using A = AccType<T>;
  if (l.inner == 1) {
    pool.parallel_for(l.outer, grain_for(l.axis_len), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) y[o] = arg_best_in_row<kMax, kLast>(x + o * l.axis_len, l.axis_len);
    });
    return;
  }
  constexpr int64_t kChunk = 512;
  const int64_t chunk = std::min(l.inner, kChunk);
  const int64_t chunks = (l.inner + chunk - 1) / chunk;
  pool.parallel_for(l.outer * chunks, grain_for(l.axis_len * chunk), [&](int64_t begin, int64_t end) {
    A best[kChunk];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / chunks, first = (task % chunks) * chunk;
      const int64_t len = std::min(chunk, l.inner - first);
      const T* in = x + o * l.axis_len * l.inner + first;
      int64_t* out = y + o * l.inner + first;
      for (int64_t i = 0; i < len; ++i) {
        best[i] = load_as<A>(in[i]);
        out[i] = 0;
      }
      for (int64_t a = 1; a < l.axis_len; ++a) {
        const T* row = in + a * l.inner;
        for (int64_t i = 0; i < len; ++i) {
          const A v = load_as<A>(row[i]);
          const bool take = replaces<kMax, kLast>(v, best[i]);
          best[i] = take ? v : best[i];
          out[i] = take ? a : out[i];
        }
      }
    }
  });
}

template <bool kMax>
class ArgKernel final : public KernelBase {
 public:
  explicit ArgKernel(const KernelInfo& info) : op_(info.node.op_type) {
    axis_ = info.node.attr_int("axis", 0);
    keepdims_ = info.node.attr_int("keepdims", 1) != 0;
    select_last_ = info.node.attr_int("select_last_index", 0) != 0;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op_.c_str(), &x));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of(op_, axis_, x->rank(), &axis));
    const AxisLayout l = layout_around(x->shape(), axis);
    if (l.axis_len == 0 && l.outer * l.inner > 0)
      HS_FAIL(kShape, op_, ": axis ", axis_, " of shape ", shape_str(x->shape()), " is empty");
    Shape out_shape = x->shape();
    if (keepdims_) out_shape[axis] = 1;
    else out_shape.erase(out_shape.begin() + axis);
    return dispatch(x->dtype(), kNumeric, op_.c_str(), [&](auto tag) {
      using T = decltype(tag);
      Tensor* y = ctx.output(0, DType::kInt64, out_shape);
      if (y->numel() == 0) return Status::ok();
      if (select_last_) arg_best<kMax, true>(x->data<T>(), y->data<int64_t>(), l, ctx.pool());
      else arg_best<kMax, false>(x->data<T>(), y->data<int64_t>(), l, ctx.pool());
      return Status::ok();
    });
  }

 private:
  std::string op_;
  int64_t axis_ = 0;
  bool keepdims_ = true;
  bool select_last_ = false;
};

HS_REGISTER_KERNEL("", "ArgMax", ArgKernel<true>);
HS_REGISTER_KERNEL("", "ArgMin", ArgKernel<false>);

}  // namespace
}  // namespace hs::cpu
