// ReduceSum, ReduceMean, ReduceProd, ReduceMax, ReduceMin, ReduceL1, ReduceL2, ReduceSumSquare,
// ReduceLogSum, ReduceLogSumExp.
//
// Algorithm: the input's dimensions are merged into runs of consecutive reduced / kept axes (size-1
// axes dropped), so any axis set becomes an alternation of kept and reduced strided blocks whose
// innermost run is contiguous. Then:
//  - innermost run reduced: each output element folds the contiguous innermost run (eight
//    independent partial accumulators, so the loop vectorises; float/double max and min in
//    explicit 16-byte vectors) once per index of the other reduced runs; parallel over outputs;
//  - innermost run kept: each output row of up to kChunk contiguous elements accumulates whole
//    input rows element-wise (a vectorised loop), once per index of the reduced runs; parallel
//    over (output row, chunk).
// Elements are mapped (|x|, x^2), folded (+, *, max, min) in a wide accumulator (float for half
// types, 64-bit for integers, double for integer logarithms) and finished (mean, sqrt, log).
// LogSumExp makes two passes: the maximum, then log(sum(exp(x - max))) + max.
//
// Axes come from the `axes` attribute before opset 13 (ReduceSum) / 18 (the others) and from the
// optional second input after; empty axes reduce everything unless noop_with_empty_axes is set,
// in which case nothing is reduced (the input passes through, mapped by |x|, x^2 or log).
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/strided_loop.h"
#include "kernels/cpu/vector_extreme.h"

namespace hs::cpu {
namespace {

enum class ReduceOp { kSum, kMean, kProd, kMax, kMin, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };

// The element map, fold and finish of one reduction in accumulator type A.
template <ReduceOp Op, typename A>
struct ReduceMath {
  static A init() {
    if constexpr (Op == ReduceOp::kProd) return A(1);
    else if constexpr (Op == ReduceOp::kMax || Op == ReduceOp::kLogSumExp)
      return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                                   : std::numeric_limits<A>::lowest();
    else if constexpr (Op == ReduceOp::kMin)
      return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity() : std::numeric_limits<A>::max();
    else return A(0);
  }
  static A map(A x) {
    if constexpr (Op == ReduceOp::kL1 && std::is_signed_v<A>) return x < 0 ? -x : x;
    else if constexpr (Op == ReduceOp::kL2 || Op == ReduceOp::kSumSquare) return x * x;
    else return x;
  }
  // NaN propagates through max and min, as in numpy.
  static A fold(A acc, A v) {
    if constexpr (Op == ReduceOp::kProd) return acc * v;
    else if constexpr (Op == ReduceOp::kMax || Op == ReduceOp::kLogSumExp) return extreme_of<true>(acc, v);
    else if constexpr (Op == ReduceOp::kMin) return extreme_of<false>(acc, v);
    else return acc + v;
  }
  static A finish(A acc, int64_t count) {
    if constexpr (Op == ReduceOp::kMean) {
      if (count == 0) return std::numeric_limits<A>::has_quiet_NaN ? std::numeric_limits<A>::quiet_NaN() : A(0);
      return acc / static_cast<A>(count);
    } else if constexpr (Op == ReduceOp::kL2) {
      return static_cast<A>(std::sqrt(acc));
    } else if constexpr (Op == ReduceOp::kLogSum) {
      return static_cast<A>(std::log(acc));
    } else {
      return acc;
    }
  }
};

// Integer inputs of sqrt / log reductions compute in double.
template <ReduceOp Op, typename T>
using ReduceAcc = std::conditional_t<std::is_integral_v<AccType<T>> &&
                                         (Op == ReduceOp::kL2 || Op == ReduceOp::kLogSum || Op == ReduceOp::kLogSumExp),
                                     double, AccType<T>>;

constexpr bool is_extreme(ReduceOp op) {
  return op == ReduceOp::kMax || op == ReduceOp::kMin || op == ReduceOp::kLogSumExp;
}

// float / double max and min go through the explicit vectors of vector_extreme.h.
template <ReduceOp Op, typename A, typename T>
constexpr bool kVectorExtreme = is_extreme(Op) && std::is_same_v<T, A> && std::is_floating_point_v<A>;

// Folds map(x[0..n)) into acc, with eight partial accumulators so the loop vectorises.
template <ReduceOp Op, typename A, typename T>
A fold_contiguous(const T* x, int64_t n, A acc) {
  using M = ReduceMath<Op, A>;
  if constexpr (kVectorExtreme<Op, A, T>) {
    return fold_extreme<Op != ReduceOp::kMin>(x, n, acc);
  } else {
    constexpr int kLanes = 8;
    int64_t i = 0;
    if (n >= kLanes) {
      A lanes[kLanes];
      for (int j = 0; j < kLanes; ++j) lanes[j] = M::init();
      for (; i + kLanes <= n; i += kLanes)
        for (int j = 0; j < kLanes; ++j) lanes[j] = M::fold(lanes[j], M::map(load_as<A>(x[i + j])));
      for (int j = 0; j < kLanes; ++j) acc = M::fold(acc, lanes[j]);
    }
    for (; i < n; ++i) acc = M::fold(acc, M::map(load_as<A>(x[i])));
    return acc;
  }
}

// acc[i] = fold(acc[i], map(row[i])) for i < n.
template <ReduceOp Op, typename A, typename T>
void fold_elementwise(A* acc, const T* row, int64_t n) {
  using M = ReduceMath<Op, A>;
  if constexpr (kVectorExtreme<Op, A, T>) {
    fold_extreme_elementwise<Op != ReduceOp::kMin>(acc, row, n);
  } else {
    for (int64_t i = 0; i < n; ++i) acc[i] = M::fold(acc[i], M::map(load_as<A>(row[i])));
  }
}

template <typename A, typename T>
A sum_exp_contiguous(const T* x, int64_t n, A max, A acc) {
  for (int64_t i = 0; i < n; ++i) acc += static_cast<A>(std::exp(load_as<A>(x[i]) - max));
  return acc;
}

template <typename A>
A finish_log_sum_exp(A sum, A max) {
  return std::isfinite(max) ? static_cast<A>(std::log(sum)) + max : max;
}

// Merged view of the input: outer kept runs, reduced runs, and the contiguous innermost run.
struct ReduceGeometry {
  std::vector<int64_t> kept_dims, kept_strides;
  std::vector<int64_t> reduced_dims, reduced_strides;
  int64_t reduced_rows = 1;  // product of reduced_dims
  int64_t inner = 1;         // length of the innermost run (input stride 1)
  bool inner_reduced = true;
  int64_t count = 1;         // input elements folded into each output element
};

ReduceGeometry make_geometry(const Shape& shape, const std::vector<bool>& reduced) {
  struct Run {
    int64_t size, stride;
    bool reduced;
  };
  const std::vector<int64_t> strides = strides_of(shape);
  std::vector<Run> runs;
  ReduceGeometry g;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (reduced[d]) g.count *= shape[d];
    if (shape[d] == 1) continue;
    if (!runs.empty() && runs.back().reduced == reduced[d]) {
      runs.back().size *= shape[d];
      runs.back().stride = strides[d];
    } else {
      runs.push_back({shape[d], strides[d], reduced[d]});
    }
  }
  if (runs.empty()) runs.push_back({1, 1, true});
  g.inner = runs.back().size;
  g.inner_reduced = runs.back().reduced;
  runs.pop_back();
  for (const Run& r : runs) {
    (r.reduced ? g.reduced_dims : g.kept_dims).push_back(r.size);
    (r.reduced ? g.reduced_strides : g.kept_strides).push_back(r.stride);
    if (r.reduced) g.reduced_rows *= r.size;
  }
  return g;
}

// Calls fn(pointer to a contiguous run) for every index of the reduced runs.
template <typename T, typename Fn>
inline void for_each_reduced_row(const T* base, const ReduceGeometry& g, Fn&& fn) {
  for_each_strided<1>(g.reduced_dims, {g.reduced_strides.data()}, {0}, 0, g.reduced_rows,
                      [&](int64_t, const std::array<int64_t, 1>& off) { fn(base + off[0]); });
}

// Innermost run reduced: one output element per kept index.
template <ReduceOp Op, typename T>
void reduce_inner_run(const T* x, T* y, const ReduceGeometry& g, int64_t outputs, ThreadPool& pool) {
  using A = ReduceAcc<Op, T>;
  using M = ReduceMath<Op, A>;
  pool.parallel_for(outputs, grain_for(g.count), [&](int64_t begin, int64_t end) {
    for_each_strided<1>(g.kept_dims, {g.kept_strides.data()}, {0}, begin, end,
                        [&](int64_t out, const std::array<int64_t, 1>& base) {
      const T* block = x + base[0];
      A acc = M::init();
      for_each_reduced_row(block, g, [&](const T* row) { acc = fold_contiguous<Op, A>(row, g.inner, acc); });
      if constexpr (Op == ReduceOp::kLogSumExp) {
        A sum = 0;
        for_each_reduced_row(block, g, [&](const T* row) { sum = sum_exp_contiguous(row, g.inner, acc, sum); });
        y[out] = store_as<T>(finish_log_sum_exp(sum, acc));
      } else {
        y[out] = store_as<T>(M::finish(acc, g.count));
      }
    });
  });
}

// Innermost run kept: output rows accumulate whole input rows, kChunk elements at a time.
template <ReduceOp Op, typename T>
void reduce_outer_runs(const T* x, T* y, const ReduceGeometry& g, int64_t outputs, ThreadPool& pool) {
  using A = ReduceAcc<Op, T>;
  using M = ReduceMath<Op, A>;
  constexpr int64_t kChunk = 512;
  const int64_t chunks = (g.inner + kChunk - 1) / kChunk;
  const int64_t blocks = outputs / g.inner;
  pool.parallel_for(blocks * chunks, grain_for(g.count * std::min(g.inner, kChunk)), [&](int64_t begin, int64_t end) {
    A acc[kChunk];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t block = task / chunks, first = (task % chunks) * kChunk;
      const int64_t len = std::min(kChunk, g.inner - first);
      const T* in = x + strided_offset(block, g.kept_dims, g.kept_strides) + first;
      T* out = y + block * g.inner + first;
      for (int64_t i = 0; i < len; ++i) acc[i] = M::init();
      for_each_reduced_row(in, g, [&](const T* row) { fold_elementwise<Op>(acc, row, len); });
      if constexpr (Op == ReduceOp::kLogSumExp) {
        A sums[kChunk];
        for (int64_t i = 0; i < len; ++i) sums[i] = 0;
        for_each_reduced_row(in, g, [&](const T* row) {
          for (int64_t i = 0; i < len; ++i) sums[i] += static_cast<A>(std::exp(load_as<A>(row[i]) - acc[i]));
        });
        for (int64_t i = 0; i < len; ++i) out[i] = store_as<T>(finish_log_sum_exp(sums[i], acc[i]));
      } else {
        for (int64_t i = 0; i < len; ++i) out[i] = store_as<T>(M::finish(acc[i], g.count));
      }
    }
  });
}

template <ReduceOp Op, typename T>
void reduce_typed(const Tensor& input, const std::vector<bool>& reduced, Tensor& output, ThreadPool& pool) {
  using A = ReduceAcc<Op, T>;
  using M = ReduceMath<Op, A>;
  const int64_t outputs = output.numel();
  if (outputs == 0) return;
  T* y = output.data<T>();
  if (input.numel() == 0) {  // every output folds an empty set
    const T empty = store_as<T>(Op == ReduceOp::kLogSumExp ? M::init() : M::finish(M::init(), 0));
    std::fill(y, y + outputs, empty);
    return;
  }
  const ReduceGeometry g = make_geometry(input.shape(), reduced);
  if (g.inner_reduced) reduce_inner_run<Op>(input.data<T>(), y, g, outputs, pool);
  else reduce_outer_runs<Op>(input.data<T>(), y, g, outputs, pool);
}

template <ReduceOp Op>
class ReduceKernel final : public KernelBase {
 public:
  explicit ReduceKernel(const KernelInfo& info) : op_(info.node.op_type) {
    keepdims_ = info.node.attr_int("keepdims", 1) != 0;
    noop_with_empty_axes_ = info.node.attr_int("noop_with_empty_axes", 0) != 0;
    axes_from_input_ = info.opset >= (Op == ReduceOp::kSum ? 13 : 18);
    if (!axes_from_input_) axes_attr_ = info.node.attr_ints("axes");
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op_.c_str(), &x));
    std::vector<int64_t> axes = axes_attr_;
    if (axes_from_input_ && ctx.input(1)) {
      const Tensor& axes_tensor = *ctx.input(1);
      if (axes_tensor.dtype() != DType::kInt64 && axes_tensor.dtype() != DType::kInt32)
        HS_FAIL(kType, op_, ": axes must be int64, got ", dtype_name(axes_tensor.dtype()));
      if (axes_tensor.rank() > 1)
        HS_FAIL(kShape, op_, ": axes must be 1-D, got shape ", shape_str(axes_tensor.shape()));
      axes = axes_tensor.to_int64_vector();
    }
    // noop_with_empty_axes reduces over no axis: each element alone is mapped and finished, which
    // leaves it unchanged except for the maps |x|, x^2 and log.
    const bool reduce_nothing = axes.empty() && noop_with_empty_axes_;
    constexpr bool kChangesSingletons =
        Op == ReduceOp::kL1 || Op == ReduceOp::kL2 || Op == ReduceOp::kSumSquare || Op == ReduceOp::kLogSum;
    if (reduce_nothing && !kChangesSingletons) {
      ctx.set_output(0, *x);
      return Status::ok();
    }
    const int64_t rank = x->rank();
    std::vector<bool> reduced(rank, axes.empty() && !reduce_nothing);
    for (int64_t axis : axes) {
      int64_t a = 0;
      HS_RETURN_IF_ERROR(normalize_axis_of(op_, axis, rank, &a));
      reduced[a] = true;
    }
    Shape out_shape;
    for (int64_t d = 0; d < rank; ++d) {
      if (!reduced[d]) out_shape.push_back(x->dim(d));
      else if (keepdims_) out_shape.push_back(1);
    }
    const unsigned types = (Op == ReduceOp::kMax || Op == ReduceOp::kMin) ? kAll : kNumeric;
    return dispatch(x->dtype(), types, op_.c_str(), [&](auto tag) {
      using T = decltype(tag);
      Tensor* y = ctx.output(0, x->dtype(), out_shape);
      reduce_typed<Op, T>(*x, reduced, *y, ctx.pool());
      return Status::ok();
    });
  }

 private:
  std::string op_;
  bool keepdims_ = true;
  bool noop_with_empty_axes_ = false;
  bool axes_from_input_ = false;
  std::vector<int64_t> axes_attr_;
};

HS_REGISTER_KERNEL("", "ReduceSum", ReduceKernel<ReduceOp::kSum>);
HS_REGISTER_KERNEL("", "ReduceMean", ReduceKernel<ReduceOp::kMean>);
HS_REGISTER_KERNEL("", "ReduceProd", ReduceKernel<ReduceOp::kProd>);
HS_REGISTER_KERNEL("", "ReduceMax", ReduceKernel<ReduceOp::kMax>);
HS_REGISTER_KERNEL("", "ReduceMin", ReduceKernel<ReduceOp::kMin>);
HS_REGISTER_KERNEL("", "ReduceL1", ReduceKernel<ReduceOp::kL1>);
HS_REGISTER_KERNEL("", "ReduceL2", ReduceKernel<ReduceOp::kL2>);
HS_REGISTER_KERNEL("", "ReduceSumSquare", ReduceKernel<ReduceOp::kSumSquare>);
HS_REGISTER_KERNEL("", "ReduceLogSum", ReduceKernel<ReduceOp::kLogSum>);
HS_REGISTER_KERNEL("", "ReduceLogSumExp", ReduceKernel<ReduceOp::kLogSumExp>);

}  // namespace
}  // namespace hs::cpu
