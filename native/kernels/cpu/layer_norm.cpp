// LayerNormalization (opset 17): Y = (X - mean) / sqrt(var + epsilon) * Scale + B, with mean and
// population variance over the dimensions [axis, rank) of each row; optional outputs Mean and
// InvStdDev have X's leading dimensions and 1s after (stash_type, float32 by default).
//
// Algorithm: X is viewed as rows x cols (cols = product of the normalised dimensions). Scale and
// B (broadcastable to the normalised shape) are expanded once per call into cols-long rows in the
// compute type (float; double for float64 inputs). Each row then takes two vectorised passes for
// its statistics (mean, then squared deviations, which do not cancel like sum and sum of squares)
// and one pass writing (x - mean) * inv_std * scale + bias: float rows in the AVX-512 / AVX2 / SSE2
// row kernel of row_kernels.h, double rows in generic loops. float16/bfloat16 rows go through
// float scratch. Parallel over rows.
#include <vector>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/row_kernels.h"
#include "kernels/cpu/row_math.h"
#include "kernels/cpu/strided_loop.h"

namespace hs::cpu {
namespace {

// `param` (broadcastable to `normalized`) as a dense row of the normalised shape's size.
template <typename C>
Status expand_to_row(const char* name, const Tensor& param, const Shape& normalized, std::vector<C>* row) {
  Shape broadcast;
  if (!broadcast_shapes(param.shape(), normalized, &broadcast).is_ok() || broadcast != normalized)
    HS_FAIL(kShape, "LayerNormalization: ", name, " of shape ", shape_str(param.shape()),
            " does not broadcast to the normalised shape ", shape_str(normalized));
  if (!is_float(param.dtype()))
    HS_FAIL(kType, "LayerNormalization: ", name, " must be a float tensor, got ", dtype_name(param.dtype()));
  const std::vector<float> values = param.to_float_vector();
  const std::vector<int64_t> strides = broadcast_strides(param.shape(), normalized);
  const int64_t n = shape_numel(normalized);
  row->resize(n);
  if ((int64_t)values.size() == n) {
    for (int64_t i = 0; i < n; ++i) (*row)[i] = static_cast<C>(values[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) (*row)[i] = static_cast<C>(values[strided_offset(i, normalized, strides)]);
  }
  return Status::ok();
}

struct LayerNormOutputs {
  void* y = nullptr;
  float* mean = nullptr;     // optional, float32 statistics
  float* inv_std = nullptr;  // optional
};

// One row in compute type C: the per-ISA row kernel for float, generic loops for double.
template <typename C>
RowStats<C> normalize_row(const C* in, const C* scale, const C* bias, C epsilon, int64_t cols, C* out) {
  if constexpr (std::is_same_v<C, float>) {
    RowStats<float> stats;
    row_kernels().layer_norm(in, scale, bias, epsilon, cols, out, &stats.mean, &stats.inv_std);
    return stats;
  } else {
    const RowStats<C> stats = row_stats(in, cols, epsilon);
    for (int64_t i = 0; i < cols; ++i)
      out[i] = (in[i] - stats.mean) * stats.inv_std * scale[i] + (bias ? bias[i] : C(0));
    return stats;
  }
}

template <typename T, typename C>
void layer_norm_rows(const T* x, const C* scale, const C* bias, C epsilon, int64_t rows, int64_t cols,
                     const LayerNormOutputs& out, ThreadPool& pool) {
  T* y = static_cast<T*>(out.y);
  pool.parallel_for(rows, grain_for(cols * 4), [&](int64_t begin, int64_t end) {
    std::vector<C> scratch(is_half<T>::value ? 2 * cols : 0);
    for (int64_t r = begin; r < end; ++r) {
      RowStats<C> stats;
      if constexpr (is_half<T>::value) {
        for (int64_t i = 0; i < cols; ++i) scratch[i] = to_float(x[r * cols + i]);
        stats = normalize_row(scratch.data(), scale, bias, epsilon, cols, scratch.data() + cols);
        for (int64_t i = 0; i < cols; ++i) y[r * cols + i] = from_float<T>(scratch[cols + i]);
      } else {
        stats = normalize_row(x + r * cols, scale, bias, epsilon, cols, y + r * cols);
      }
      if (out.mean) out.mean[r] = static_cast<float>(stats.mean);
      if (out.inv_std) out.inv_std[r] = static_cast<float>(stats.inv_std);
    }
  });
}

class LayerNormKernel final : public KernelBase {
 public:
  explicit LayerNormKernel(const KernelInfo& info) {
    axis_ = info.node.attr_int("axis", -1);
    epsilon_ = info.node.attr_float("epsilon", 1e-5f);
    const int64_t stash_type = info.node.attr_int("stash_type", 1);
    if (stash_type != (int64_t)DType::kFloat32)
      init_status = Status(StatusCode::kUnsupportedOp, str_cat("LayerNormalization: attribute stash_type=", stash_type,
                                                               " is not supported (only 1, float32)"));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *x, *scale;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "LayerNormalization", &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "LayerNormalization", &scale));
    const Tensor* bias = ctx.input(2);
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("LayerNormalization", axis_, x->rank(), &axis));
    const Shape normalized(x->shape().begin() + axis, x->shape().end());
    const AxisLayout l = layout_flattened_at(x->shape(), axis);
    Shape stats_shape = x->shape();
    for (int64_t d = axis; d < x->rank(); ++d) stats_shape[d] = 1;
    return dispatch(x->dtype(), kFloats, "LayerNormalization", [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!kIsFloatType<T>) {
        return dtype_not_supported("LayerNormalization", x->dtype());
      } else {
        using C = AccType<T>;
        std::vector<C> scale_row, bias_row;
        HS_RETURN_IF_ERROR(expand_to_row("Scale", *scale, normalized, &scale_row));
        if (bias) HS_RETURN_IF_ERROR(expand_to_row("B", *bias, normalized, &bias_row));
        LayerNormOutputs out;
        out.y = ctx.output(0, x->dtype(), x->shape())->raw();
        if (ctx.output_wanted(1)) out.mean = ctx.output(1, DType::kFloat32, stats_shape)->data<float>();
        if (ctx.output_wanted(2)) out.inv_std = ctx.output(2, DType::kFloat32, stats_shape)->data<float>();
        if (l.outer == 0 || l.axis_len == 0) return Status::ok();
        layer_norm_rows<T, C>(x->data<T>(), scale_row.data(), bias ? bias_row.data() : nullptr,
                              static_cast<C>(epsilon_), l.outer, l.axis_len, out, ctx.pool());
        return Status::ok();
      }
    });
  }

 private:
  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
};

HS_REGISTER_KERNEL("", "LayerNormalization", LayerNormKernel);

}  // namespace
}  // namespace hs::cpu
