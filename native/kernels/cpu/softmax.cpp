// Softmax, LogSoftmax, Hardmax.
//
// Semantics: before opset 13 the input is flattened to 2-D at `axis` (default 1) and each row of
// the second dimension is normalised; from opset 13 only the single dimension `axis` (default -1)
// is. Both are an [outer, axis_len, inner] view (inner = 1 for the flattened form).
//
// Algorithm, inner == 1 (the transformer case): per row, a vectorised max pass; one pass writing
// e = exp(x - max) and summing it; then Softmax scales by 1/sum and LogSoftmax writes
// x - max - log(sum) (float rows: the AVX-512 / AVX2 / SSE2 row kernels of row_kernels.h).
// Hardmax writes a one-hot row at the first maximum. inner > 1: the same passes run across a
// chunk of up to kChunk contiguous columns at once, with per-column max and sum. float16 and
// bfloat16 go through float scratch. Parallel over rows (or (outer, chunk)).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/row_kernels.h"
#include "kernels/cpu/row_math.h"

namespace hs::cpu {
namespace {

enum class SoftmaxKind { kSoftmax, kLogSoftmax, kHardmax };

inline void exp_inplace(float* v, int64_t n) { row_kernels().exp_inplace(v, n); }

inline void exp_inplace(double* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) v[i] = std::exp(v[i]);
}

// One contiguous row of n > 0 elements; x and y do not overlap. float rows use the per-ISA row
// kernels; double rows the generic loops.
template <SoftmaxKind K, typename C>
void normalize_row(const C* x, C* y, int64_t n) {
  if constexpr (K == SoftmaxKind::kHardmax) {
    const int64_t at = std::max_element(x, x + n) - x;
    std::fill(y, y + n, C(0));
    y[at] = C(1);
  } else if constexpr (std::is_same_v<C, float>) {
    if constexpr (K == SoftmaxKind::kSoftmax) row_kernels().softmax(x, y, n);
    else row_kernels().log_softmax(x, y, n);
  } else {
    const C max = row_max(x, n);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - max;
    exp_inplace(y, n);
    const C sum = row_sum(y, n);
    if constexpr (K == SoftmaxKind::kSoftmax) {
      const C inv = C(1) / sum;
      for (int64_t i = 0; i < n; ++i) y[i] *= inv;
    } else {
      const C shift = max + std::log(sum);
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] - shift;
    }
  }
}

constexpr int64_t kChunk = 256;

// `len` <= kChunk columns of n rows: row a of x at x + a * x_stride, of y at y + a * y_stride.
template <SoftmaxKind K, typename C>
void normalize_columns(const C* x, int64_t x_stride, C* y, int64_t y_stride, int64_t n, int64_t len) {
  C max[kChunk], sum[kChunk];
  int64_t arg[K == SoftmaxKind::kHardmax ? kChunk : 1];
  for (int64_t i = 0; i < len; ++i) max[i] = x[i];
  if constexpr (K == SoftmaxKind::kHardmax) {
    for (int64_t i = 0; i < len; ++i) arg[i] = 0;
    for (int64_t a = 1; a < n; ++a) {
      const C* row = x + a * x_stride;
      for (int64_t i = 0; i < len; ++i) {
        const bool take = row[i] > max[i];
        max[i] = take ? row[i] : max[i];
        arg[i] = take ? a : arg[i];
      }
    }
    for (int64_t a = 0; a < n; ++a) {
      C* row = y + a * y_stride;
      for (int64_t i = 0; i < len; ++i) row[i] = arg[i] == a ? C(1) : C(0);
    }
  } else {
    for (int64_t a = 1; a < n; ++a) {
      const C* row = x + a * x_stride;
      for (int64_t i = 0; i < len; ++i) max[i] = row[i] > max[i] ? row[i] : max[i];
    }
    for (int64_t i = 0; i < len; ++i) sum[i] = 0;
    for (int64_t a = 0; a < n; ++a) {
      const C* in = x + a * x_stride;
      C* out = y + a * y_stride;
      for (int64_t i = 0; i < len; ++i) out[i] = in[i] - max[i];
      exp_inplace(out, len);
      for (int64_t i = 0; i < len; ++i) sum[i] += out[i];
    }
    if constexpr (K == SoftmaxKind::kSoftmax) {
      for (int64_t i = 0; i < len; ++i) sum[i] = C(1) / sum[i];
      for (int64_t a = 0; a < n; ++a) {
        C* out = y + a * y_stride;
        for (int64_t i = 0; i < len; ++i) out[i] *= sum[i];
      }
    } else {
      for (int64_t i = 0; i < len; ++i) max[i] += std::log(sum[i]);
      for (int64_t a = 0; a < n; ++a) {
        const C* in = x + a * x_stride;
        C* out = y + a * y_stride;
        for (int64_t i = 0; i < len; ++i) out[i] = in[i] - max[i];
      }
    }
  }
}

// float32 / float64: straight on the tensors.
template <SoftmaxKind K, typename C>
void normalize_native(const C* x, C* y, const AxisLayout& l, ThreadPool& pool) {
  const int64_t n = l.axis_len;
  if (l.inner == 1) {
    pool.parallel_for(l.outer, grain_for(n * 8), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) normalize_row<K>(x + r * n, y + r * n, n);
    });
    return;
  }
  const int64_t chunks = (l.inner + kChunk - 1) / kChunk;
  pool.parallel_for(l.outer * chunks, grain_for(n * std::min(l.inner, kChunk) * 8), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / chunks, first = (task % chunks) * kChunk;
      const int64_t offset = o * n * l.inner + first;
      normalize_columns<K>(x + offset, l.inner, y + offset, l.inner, n, std::min(kChunk, l.inner - first));
    }
  });
}

// float16 / bfloat16: each row (or chunk of columns) goes through float scratch.
template <SoftmaxKind K, typename T>
void normalize_half(const T* x, T* y, const AxisLayout& l, ThreadPool& pool) {
  const int64_t n = l.axis_len;
  const int64_t len_max = std::min(l.inner, kChunk);
  const int64_t chunks = (l.inner + len_max - 1) / len_max;
  pool.parallel_for(l.outer * chunks, grain_for(n * len_max * 8), [&](int64_t begin, int64_t end) {
    std::vector<float> in(n * len_max), out(n * len_max);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / chunks, first = (task % chunks) * len_max;
      const int64_t len = std::min(len_max, l.inner - first);
      const int64_t offset = o * n * l.inner + first;
      for (int64_t a = 0; a < n; ++a)
        for (int64_t i = 0; i < len; ++i) in[a * len + i] = to_float(x[offset + a * l.inner + i]);
      if (len == 1) normalize_row<K>(in.data(), out.data(), n);
      else normalize_columns<K>(in.data(), len, out.data(), len, n, len);
      for (int64_t a = 0; a < n; ++a)
        for (int64_t i = 0; i < len; ++i) y[offset + a * l.inner + i] = from_float<T>(out[a * len + i]);
    }
  });
}

template <SoftmaxKind K>
class SoftmaxKernel final : public KernelBase {
 public:
  explicit SoftmaxKernel(const KernelInfo& info) : op_(info.node.op_type) {
    flatten_ = info.opset < 13;
    axis_ = info.node.attr_int("axis", flatten_ ? 1 : -1);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op_.c_str(), &x));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of(op_, axis_, x->rank(), &axis));
    const AxisLayout l = flatten_ ? layout_flattened_at(x->shape(), axis) : layout_around(x->shape(), axis);
    return dispatch(x->dtype(), kFloats, op_.c_str(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!kIsFloatType<T>) {
        return dtype_not_supported(op_, x->dtype());
      } else {
        Tensor* y = ctx.output(0, x->dtype(), x->shape());
        if (y->numel() == 0) return Status::ok();
        if constexpr (is_half<T>::value) normalize_half<K>(x->data<T>(), y->data<T>(), l, ctx.pool());
        else normalize_native<K>(x->data<T>(), y->data<T>(), l, ctx.pool());
        return Status::ok();
      }
    });
  }

 private:
  std::string op_;
  bool flatten_ = false;
  int64_t axis_ = -1;
};

HS_REGISTER_KERNEL("", "Softmax", SoftmaxKernel<SoftmaxKind::kSoftmax>);
HS_REGISTER_KERNEL("", "LogSoftmax", SoftmaxKernel<SoftmaxKind::kLogSoftmax>);
HS_REGISTER_KERNEL("", "Hardmax", SoftmaxKernel<SoftmaxKind::kHardmax>);

}  // namespace
}  // namespace hs::cpu
