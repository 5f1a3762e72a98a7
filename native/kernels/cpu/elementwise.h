// Shared machinery of the elementwise kernels (unary, activations, binary arithmetic, compare and
// logic, variadic Max/Min/Sum/Mean, Where).
//
// Broadcasting: the output shape and every input's broadcast strides are coalesced first, merging
// adjacent axes that every input walks the same way (contiguously, or not at all), so same-shape
// operands become one contiguous axis, a scalar operand one axis of stride 0, and a per-channel
// bias two or three axes. The output is then cut into chunks of linear indices (parallel_for),
// and each chunk into runs of innermost rows, along which every input has stride 1 or 0:
// the inner loops are one of four contiguous shapes (vector-vector, vector-scalar, scalar-vector,
// scalar-scalar), which the compiler vectorises for the plain arithmetic types; each loop is also
// compiled for AVX2 and picked at run time.
//
// Element types: float16/bfloat16 are loaded into float, computed and stored back (load_as /
// store_as); bool tensors are read and written as bytes (uint8_t), and logic ops treat any
// non-zero byte as true.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/common.h"

namespace hs::cpu {

// Elements per parallel chunk: cheap ops (a few instructions an element) need big chunks before
// a second thread pays off; transcendental ones (exp, log, pow, trig) much smaller.
constexpr int64_t kCheapGrain = 32768;
constexpr int64_t kCostlyGrain = 4096;
// Innermost rows shorter than this run as plain nested loops rather than vector loops.
constexpr int64_t kShortRow = 16;

// The type an element of storage type T is computed in.
template <typename T> using ComputeType = std::conditional_t<is_half<T>::value, float, T>;
// How a dtype's elements are stored in memory: bool as bytes, the rest as themselves.
template <typename T> using StorageType = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

// Like dispatch() (common.h), but only the allowed types are instantiated: f(tag) is compiled
// for the types in `Allowed` alone, and every other dtype gets an ERR_TYPE naming `op`.
template <unsigned Allowed, typename F>
Status dispatch_only(DType t, const std::string& op, F&& f) {
  switch (t) {
    case DType::kFloat32: if constexpr ((Allowed & kFloats) != 0) return f(float{}); break;
    case DType::kFloat64: if constexpr ((Allowed & kFloats) != 0) return f(double{}); break;
    case DType::kFloat16: if constexpr ((Allowed & kFloats) != 0) return f(Half{}); break;
    case DType::kBFloat16: if constexpr ((Allowed & kFloats) != 0) return f(BFloat16{}); break;
    case DType::kInt8: if constexpr ((Allowed & kSignedInts) != 0) return f(int8_t{}); break;
    case DType::kInt16: if constexpr ((Allowed & kSignedInts) != 0) return f(int16_t{}); break;
    case DType::kInt32: if constexpr ((Allowed & kSignedInts) != 0) return f(int32_t{}); break;
    case DType::kInt64: if constexpr ((Allowed & kSignedInts) != 0) return f(int64_t{}); break;
    case DType::kUint8: if constexpr ((Allowed & kUnsignedInts) != 0) return f(uint8_t{}); break;
    case DType::kUint16: if constexpr ((Allowed & kUnsignedInts) != 0) return f(uint16_t{}); break;
    case DType::kUint32: if constexpr ((Allowed & kUnsignedInts) != 0) return f(uint32_t{}); break;
    case DType::kUint64: if constexpr ((Allowed & kUnsignedInts) != 0) return f(uint64_t{}); break;
    case DType::kBool: if constexpr ((Allowed & kBoolType) != 0) return f(bool{}); break;
    default: break;
  }
  return Status(StatusCode::kType, str_cat(op, " does not support dtype ", dtype_name(t)));
}

// An op functor built from the node: Op(info) when it has such a constructor (attributes), else Op{}.
template <typename Op>
Op make_op(const KernelInfo& info) {
  if constexpr (std::is_constructible_v<Op, const KernelInfo&>) return Op(info);
  else return Op{};
}

// Whether this CPU has AVX2: the maps below then run copies of their loops compiled for it (the
// same arithmetic, wider vectors; no FMA contraction, so results match the generic loops).
inline bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// Integer arithmetic that wraps instead of overflowing (signed overflow is undefined in C++, and
// narrow types promote to int): computed in an unsigned type of at least 32 bits.
template <typename T> using WrapType = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;
template <typename T> inline T wrap_add(T a, T b) { return (T)((WrapType<T>)a + (WrapType<T>)b); }
template <typename T> inline T wrap_sub(T a, T b) { return (T)((WrapType<T>)a - (WrapType<T>)b); }
template <typename T> inline T wrap_mul(T a, T b) { return (T)((WrapType<T>)a * (WrapType<T>)b); }
template <typename T> inline T wrap_neg(T a) { return (T)(WrapType<T>(0) - (WrapType<T>)a); }

// ---------------------------------------------------------------------------------------------
// Broadcast plans.

// The output (as coalesced dims) and the element strides of K inputs broadcast to it. dims has at
// least one axis; on the innermost axis every input's stride is 1 or 0.
template <size_t K>
struct BroadcastPlan {
  Shape dims;
  std::array<std::vector<int64_t>, K> strides;
  int64_t numel = 0;
  int64_t inner_stride(size_t k) const { return strides[k].back(); }
};

// The plan for inputs `ins` (each broadcastable to `out`, which the caller has checked).
template <size_t K>
BroadcastPlan<K> plan_broadcast(const Shape& out, const std::array<const Shape*, K>& ins) {
  std::array<std::vector<int64_t>, K> full;
  for (size_t k = 0; k < K; ++k) full[k] = broadcast_strides(*ins[k], out);
  BroadcastPlan<K> plan;
  plan.numel = shape_numel(out);
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;  // contributes nothing to any offset
    bool merges = !plan.dims.empty();
    for (size_t k = 0; k < K && merges; ++k) merges = plan.strides[k].back() == full[k][d] * out[d];
    if (merges) {
      plan.dims.back() *= out[d];
      for (size_t k = 0; k < K; ++k) plan.strides[k].back() = full[k][d];
    } else {
      plan.dims.push_back(out[d]);
      for (size_t k = 0; k < K; ++k) plan.strides[k].push_back(full[k][d]);
    }
  }
  if (plan.dims.empty()) {  // a single element
    plan.dims.push_back(1);
    for (size_t k = 0; k < K; ++k) plan.strides[k].push_back(0);
  }
  return plan;
}

// Input k's stride along the second-innermost axis (from one innermost row to the next).
template <size_t K>
int64_t row_stride(const BroadcastPlan<K>& plan, size_t k) {
  return plan.dims.size() >= 2 ? plan.strides[k][plan.dims.size() - 2] : 0;
}

// Calls fn(out_offset, in_offsets, rows, len) for the output linear indices [begin, end), cut into
// runs of `rows` whole rows of the innermost axis (len elements each) that lie along one index
// range of the second-innermost axis, or single partial rows (rows = 1) at the chunk's edges. In
// a run, element i of row r is output element out_offset + r * len + i and reads input k at
// in_offsets[k] + r * row_stride(k) + i * inner_stride(k).

template <size_t K, typename Fn>
__attribute__((always_inline)) inline void for_each_row_run(const BroadcastPlan<K>& plan, int64_t begin, int64_t end,
                                                            Fn&& fn) {
  const size_t rank = plan.dims.size();
  const size_t outer_rank = rank >= 2 ? rank - 2 : 0;  // the axes outside the row axis
  const int64_t inner = plan.dims.back();
  const int64_t rows_per_block = rank >= 2 ? plan.dims[rank - 2] : 1;
  std::array<int64_t, K> step;  // per row along the row axis
  for (size_t k = 0; k < K; ++k) step[k] = row_stride(plan, k);
  // Position: outer index, row within its block, column; offsets of the current row's start.
  std::vector<int64_t> index(outer_rank, 0);
  std::array<int64_t, K> row_offsets{};
  const int64_t first_row = begin / inner;
  int64_t row = first_row % rows_per_block;
  int64_t rest = first_row / rows_per_block;
  for (size_t k = 0; k < K; ++k) row_offsets[k] = row * step[k];
  for (size_t d = outer_rank; d-- > 0;) {
    index[d] = rest % plan.dims[d];
    rest /= plan.dims[d];
    for (size_t k = 0; k < K; ++k) row_offsets[k] += index[d] * plan.strides[k][d];
  }
  int64_t col = begin % inner;
  for (int64_t pos = begin; pos < end;) {
    int64_t rows = 1;
    if (col != 0 || end - pos < inner) {
      const int64_t len = std::min(inner - col, end - pos);
      std::array<int64_t, K> offsets;
      for (size_t k = 0; k < K; ++k) offsets[k] = row_offsets[k] + col * plan.inner_stride(k);
      fn(pos, offsets, int64_t(1), len);
      pos += len;
    } else {
      rows = std::min(rows_per_block - row, (end - pos) / inner);
      fn(pos, row_offsets, rows, inner);
      pos += rows * inner;
    }
    col = 0;
    row += rows;
    for (size_t k = 0; k < K; ++k) row_offsets[k] += rows * step[k];
    if (row < rows_per_block) continue;
    row = 0;
    for (size_t k = 0; k < K; ++k) row_offsets[k] -= rows_per_block * step[k];
    for (size_t d = outer_rank; d-- > 0;) {
      for (size_t k = 0; k < K; ++k) row_offsets[k] += plan.strides[k][d];
      if (++index[d] < plan.dims[d]) break;
      for (size_t k = 0; k < K; ++k) row_offsets[k] -= index[d] * plan.strides[k][d];
      index[d] = 0;
    }
  }
}

// The broadcast of all `shapes` (numpy rules), or ERR_SHAPE naming `op`.
inline Status broadcast_all(const std::string& op, const std::vector<const Shape*>& shapes, Shape* out) {
  *out = shapes.empty() ? Shape{} : *shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    Shape next;
    Status st = broadcast_shapes(*out, *shapes[i], &next);
    if (!st.is_ok()) return Status(StatusCode::kShape, str_cat(op, ": input ", i, ": ", st.message()));
    *out = std::move(next);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Unary maps.

// y[i] = op(x[i]) for i in [0, n).
template <typename T, typename R, typename Op>
__attribute__((always_inline)) inline void unary_loop(const T* x, R* y, int64_t n, const Op& op) {
  using C = ComputeType<T>;
  for (int64_t i = 0; i < n; ++i) y[i] = store_as<R>(op(load_as<C>(x[i])));
}
template <typename T, typename R, typename Op>
void unary_loop_generic(const T* x, R* y, int64_t n, const Op& op) { unary_loop(x, y, n, op); }
template <typename T, typename R, typename Op>
__attribute__((target("avx2"))) void unary_loop_avx2(const T* x, R* y, int64_t n, const Op& op) {
  unary_loop(x, y, n, op);
}

// y[i] = op(x[i]) for i in [0, n), in parallel chunks.
template <typename T, typename R, typename Op>
void unary_map(ThreadPool& pool, const T* x, R* y, int64_t n, const Op& op, int64_t grain) {
  auto* loop = cpu_has_avx2() ? &unary_loop_avx2<T, R, Op> : &unary_loop_generic<T, R, Op>;
  pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) { loop(x + begin, y + begin, end - begin, op); });
}

// y[0..n) = act(x[0..n)) for float32 ops that the fused-activation code implements with the
// widest vectors of this CPU: the chunk is copied, then transformed in place while in cache.
inline void activation_loop(const Activation& act, const float* x, float* y, int64_t n) {
  std::memcpy(y, x, (size_t)n * sizeof(float));
  apply_activation(act, y, n);
}

// Defaults for unary op functors.
struct UnaryOpDefaults {
  static constexpr int64_t kGrain = kCheapGrain;
  static constexpr bool kToBool = false;  // IsInf, IsNaN
  // Whether float32 goes through the op's own `void float_loop(const float* x, float* y, int64_t n)
  // const` (vector code) instead of the functor.
  static constexpr bool kHasFloatLoop = false;
  // Attributes the op cannot run with, reported when the model loads.
  Status check() const { return Status::ok(); }
};

// A unary kernel: Op declares kTypes (allowed TypeSet) and the functor (computing on
// ComputeType<T>), and may override UnaryOpDefaults.
template <typename Op>
class UnaryKernel final : public KernelBase {
 public:
  explicit UnaryKernel(const KernelInfo& info) : name_(info.node.op_type), op_(make_op<Op>(info)) { init_status = op_.check(); }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, name_.c_str(), &x));
    return dispatch_only<Op::kTypes>(x->dtype(), name_, [&](auto tag) -> Status {
      using T = StorageType<decltype(tag)>;
      using R = std::conditional_t<Op::kToBool, bool, T>;
      Tensor* y = ctx.output(0, Op::kToBool ? DType::kBool : x->dtype(), x->shape());
      if constexpr (std::is_same_v<T, float> && Op::kHasFloatLoop) {
        const float* xs = x->data<float>();
        float* ys = y->data<float>();
        ctx.pool().parallel_for(x->numel(), Op::kGrain, [&](int64_t begin, int64_t end) {
          op_.float_loop(xs + begin, ys + begin, end - begin);
        });
      } else {
        unary_map(ctx.pool(), x->data<T>(), y->data<R>(), x->numel(), op_, Op::kGrain);
      }
      return Status::ok();
    });
  }

 private:
  std::string name_;
  Op op_;
};

// ---------------------------------------------------------------------------------------------
// Binary maps.

// out[i] = op(a[i * sa], b[i * sb]) for i in [0, n), strides 0 or 1: one contiguous loop per case.
template <typename A, typename B, typename R, typename Op>
__attribute__((always_inline)) inline void binary_segment(const A* a, int64_t sa, const B* b, int64_t sb, R* out, int64_t n, const Op& op) {
  using CA = ComputeType<A>;
  using CB = ComputeType<B>;
  if (sa != 0 && sb != 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = store_as<R>(op(load_as<CA>(a[i]), load_as<CB>(b[i])));
  } else if (sb == 0 && sa != 0) {
    const CB bv = load_as<CB>(b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = store_as<R>(op(load_as<CA>(a[i]), bv));
  } else if (sa == 0 && sb != 0) {
    const CA av = load_as<CA>(a[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = store_as<R>(op(av, load_as<CB>(b[i])));
  } else {
    const R v = store_as<R>(op(load_as<CA>(a[0]), load_as<CB>(b[0])));
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// out = op(a, b) for the output linear indices [begin, end) of a two-input plan.
template <typename A, typename B, typename R, typename Op>
__attribute__((always_inline)) inline void binary_chunk(const BroadcastPlan<2>& plan, const A* a, const B* b, R* out,
                                                        const Op& op, int64_t begin, int64_t end) {
  const int64_t sa = plan.inner_stride(0), sb = plan.inner_stride(1);
  const int64_t ra = row_stride(plan, 0), rb = row_stride(plan, 1);
  if (plan.dims.back() < kShortRow) {  // rows too short for a vector loop: plain nested loops
    using CA = ComputeType<A>;
    using CB = ComputeType<B>;
    for_each_row_run(plan, begin, end, [&](int64_t o, const std::array<int64_t, 2>& off, int64_t rows, int64_t len) {
      for (int64_t r = 0; r < rows; ++r) {
        const A* pa = a + off[0] + r * ra;
        const B* pb = b + off[1] + r * rb;
        R* po = out + o + r * len;
        for (int64_t i = 0; i < len; ++i) po[i] = store_as<R>(op(load_as<CA>(pa[i * sa]), load_as<CB>(pb[i * sb])));
      }
    });
    return;
  }
  for_each_row_run(plan, begin, end, [&](int64_t o, const std::array<int64_t, 2>& off, int64_t rows, int64_t len) {
    for (int64_t r = 0; r < rows; ++r)
      binary_segment(a + off[0] + r * ra, sa, b + off[1] + r * rb, sb, out + o + r * len, len, op);
  });
}
template <typename A, typename B, typename R, typename Op>
void binary_chunk_generic(const BroadcastPlan<2>& plan, const A* a, const B* b, R* out, const Op& op, int64_t begin,
                          int64_t end) {
  binary_chunk(plan, a, b, out, op, begin, end);
}
template <typename A, typename B, typename R, typename Op>
__attribute__((target("avx2"))) void binary_chunk_avx2(const BroadcastPlan<2>& plan, const A* a, const B* b, R* out,
                                                       const Op& op, int64_t begin, int64_t end) {
  binary_chunk(plan, a, b, out, op, begin, end);
}

// out = op(a, b) over a two-input plan, in parallel chunks of the output.
template <typename A, typename B, typename R, typename Op>
void binary_map(ThreadPool& pool, const BroadcastPlan<2>& plan, const A* a, const B* b, R* out, const Op& op,
                int64_t grain) {
  auto* chunk = cpu_has_avx2() ? &binary_chunk_avx2<A, B, R, Op> : &binary_chunk_generic<A, B, R, Op>;
  pool.parallel_for(plan.numel, grain, [&](int64_t begin, int64_t end) { chunk(plan, a, b, out, op, begin, end); });
}

// Broadcasts inputs a (stored as A) and b (stored as B), allocates output 0 (out_dtype, stored as
// R) and fills it with op. ERR_SHAPE when the shapes do not broadcast.
template <typename A, typename B, typename R, typename Op>
Status run_binary(KernelContext& ctx, const std::string& name, const Tensor& a, const Tensor& b, DType out_dtype,
                  const Op& op, int64_t grain) {
  Shape out_shape;
  HS_RETURN_IF_ERROR(broadcast_all(name, {&a.shape(), &b.shape()}, &out_shape));
  Tensor* out = ctx.output(0, out_dtype, out_shape);
  if (out->numel() == 0) return Status::ok();
  const BroadcastPlan<2> plan = plan_broadcast<2>(out_shape, {&a.shape(), &b.shape()});
  binary_map(ctx.pool(), plan, a.data<A>(), b.data<B>(), out->data<R>(), op, grain);
  return Status::ok();
}

// The two inputs of a binary op, ERR_TYPE unless their dtypes match.
inline Status binary_inputs(const KernelContext& ctx, const std::string& op, const Tensor** a, const Tensor** b) {
  HS_RETURN_IF_ERROR(require_input(ctx, 0, op.c_str(), a));
  HS_RETURN_IF_ERROR(require_input(ctx, 1, op.c_str(), b));
  if ((*a)->dtype() != (*b)->dtype())
    return Status(StatusCode::kType, str_cat(op, ": input dtypes ", dtype_name((*a)->dtype()), " and ",
                                             dtype_name((*b)->dtype()), " differ"));
  return Status::ok();
}

// A binary kernel: Op declares kTypes (allowed TypeSet), kGrain, kToBool (compare ops), the
// functor itself, and `template <typename T> Status check(op, b)` for input checks (divisors).
template <typename Op>
class BinaryKernel final : public KernelBase {
 public:
  explicit BinaryKernel(const KernelInfo& info) : name_(info.node.op_type), op_(make_op<Op>(info)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *a, *b;
    HS_RETURN_IF_ERROR(binary_inputs(ctx, name_, &a, &b));
    return dispatch_only<Op::kTypes>(a->dtype(), name_, [&](auto tag) -> Status {
      using T = StorageType<decltype(tag)>;
      using R = std::conditional_t<Op::kToBool, bool, T>;
      HS_RETURN_IF_ERROR(op_.template check<T>(name_, *b));
      return run_binary<T, T, R>(ctx, name_, *a, *b, Op::kToBool ? DType::kBool : a->dtype(), op_, Op::kGrain);
    });
  }

 private:
  std::string name_;
  Op op_;
};

// Defaults for binary op functors.
struct BinaryOpDefaults {
  static constexpr int64_t kGrain = kCheapGrain;
  static constexpr bool kToBool = false;
  template <typename T> Status check(const std::string&, const Tensor&) const { return Status::ok(); }
};

}  // namespace hs::cpu
