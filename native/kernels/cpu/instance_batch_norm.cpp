// InstanceNormalization, GroupNormalization and BatchNormalization over X of shape [N, C, spatial...].
//
// Both reduce to a per-channel affine map y = a * x + b over rows of S = prod(spatial) contiguous
// elements (vectorised, parallel over the N*C rows):
//  - BatchNormalization, inference: a = scale / sqrt(var + epsilon), b = B - mean * a from the
//    given running statistics;
//  - BatchNormalization, training_mode = 1 (opset 14+): mean and population variance of each
//    channel over N and the spatial axes are computed first (two passes), Y uses them, and the
//    optional outputs running_mean / running_var are input * momentum + batch * (1 - momentum);
//  - InstanceNormalization: mean and variance of each (n, c) row (two vectorised passes), then
//    a = scale[c] * inv_std, b = B[c] - mean * a;
//  - GroupNormalization (opsets 18 and 21): the same over each (n, group) run of C / num_groups
//    contiguous channel rows (instance normalisation is one channel per group), with scale and
//    bias per channel (opset 21) or per group (opset 18).
// Statistics and coefficients are computed in float (double for float64 inputs); float16 and
// bfloat16 rows are converted on the fly.
#include <cmath>
#include <vector>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/row_math.h"

namespace hs::cpu {
namespace {

// N, C and S of X = [N, C, spatial...].
struct ChannelLayout {
  int64_t batch = 1, channels = 1, spatial = 1;
};

Status channel_layout(const char* op, const Tensor& x, ChannelLayout* out) {
  if (x.rank() < 2) HS_FAIL(kShape, op, ": input must have rank >= 2 ([N, C, ...]), got shape ", shape_str(x.shape()));
  out->batch = x.dim(0);
  out->channels = x.dim(1);
  out->spatial = 1;
  for (int64_t d = 2; d < x.rank(); ++d) out->spatial *= x.dim(d);
  return Status::ok();
}

// A per-channel parameter (C values of any float dtype) in compute type C.
template <typename C>
Status channel_param(const char* op, const char* name, const Tensor* param, int64_t channels, std::vector<C>* out) {
  if (!param) HS_FAIL(kInvalidModel, op, ": missing input ", name);
  if (!is_float(param->dtype()))
    HS_FAIL(kType, op, ": ", name, " must be a float tensor, got ", dtype_name(param->dtype()));
  if (param->numel() != channels)
    HS_FAIL(kShape, op, ": ", name, " must hold ", channels, " values (one per channel), got shape ",
            shape_str(param->shape()));
  const std::vector<float> values = param->to_float_vector();
  out->assign(values.begin(), values.end());
  return Status::ok();
}

// y[n, c, :] = a[c or n*C+c] * x[n, c, :] + b[...]; `per_row` coefficients index rows, else channels.
template <typename T, typename C>
void affine_rows(const T* x, T* y, const C* a, const C* b, bool per_row, const ChannelLayout& l, ThreadPool& pool) {
  const int64_t s = l.spatial;
  pool.parallel_for(l.batch * l.channels, grain_for(s), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t k = per_row ? row : row % l.channels;
      const C scale = a[k], shift = b[k];
      const T* in = x + row * s;
      T* out = y + row * s;
      if constexpr (is_half<T>::value) {
        for (int64_t i = 0; i < s; ++i) out[i] = from_float<T>(scale * to_float(in[i]) + shift);
      } else {
        for (int64_t i = 0; i < s; ++i) out[i] = scale * in[i] + shift;
      }
    }
  });
}

// Row (n, c) of X in compute type C: the row itself for float/double, converted for half types.
template <typename T, typename C>
const C* row_in_compute_type(const T* row, int64_t n, std::vector<C>& scratch) {
  if constexpr (is_half<T>::value) {
    scratch.resize(n);
    for (int64_t i = 0; i < n; ++i) scratch[i] = to_float(row[i]);
    return scratch.data();
  } else {
    return row;
  }
}

// Normalises each (n, group) run of C / groups contiguous channel rows by its mean and variance,
// then scales and shifts each channel by scale / B per channel (`per_channel`) or per group.
Status normalize_groups(KernelContext& ctx, const char* op, const char* bias_name, int64_t groups, bool per_channel,
                        float epsilon) {
  const Tensor* x;
  HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
  ChannelLayout l;
  HS_RETURN_IF_ERROR(channel_layout(op, *x, &l));
  if (groups == 0) groups = l.channels;
  if (l.channels % groups != 0) HS_FAIL(kShape, op, ": ", l.channels, " channels do not split into ", groups, " groups");
  return dispatch(x->dtype(), kFloats, op, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!kIsFloatType<T>) {
      return dtype_not_supported(op, x->dtype());
    } else {
      using C = AccType<T>;
      const int64_t params = per_channel ? l.channels : groups, per_group = l.channels / groups;
      std::vector<C> scale, bias;
      HS_RETURN_IF_ERROR(channel_param(op, "scale", ctx.input(1), params, &scale));
      HS_RETURN_IF_ERROR(channel_param(op, bias_name, ctx.input(2), params, &bias));
      Tensor* y = ctx.output(0, x->dtype(), x->shape());
      if (y->numel() == 0) return Status::ok();
      const int64_t rows = l.batch * l.channels, run = per_group * l.spatial;
      std::vector<C> a(rows), b(rows);
      const T* xs = x->data<T>();
      ctx.pool().parallel_for(l.batch * groups, grain_for(run * 2), [&](int64_t begin, int64_t end) {
        std::vector<C> scratch;
        for (int64_t ng = begin; ng < end; ++ng) {
          const C* in = row_in_compute_type(xs + ng * run, run, scratch);
          const RowStats<C> stats = row_stats(in, run, static_cast<C>(epsilon));
          for (int64_t row = ng * per_group; row < (ng + 1) * per_group; ++row) {
            const int64_t p = per_channel ? row % l.channels : ng % groups;
            a[row] = scale[p] * stats.inv_std;
            b[row] = bias[p] - stats.mean * a[row];
          }
        }
      });
      affine_rows(xs, y->data<T>(), a.data(), b.data(), true, l, ctx.pool());
      return Status::ok();
    }
  });
}

class InstanceNormKernel final : public KernelBase {
 public:
  explicit InstanceNormKernel(const KernelInfo& info) : epsilon_(info.node.attr_float("epsilon", 1e-5f)) {}

  Status compute(KernelContext& ctx) const override {
    return normalize_groups(ctx, "InstanceNormalization", "B", 0, true, epsilon_);
  }

 private:
  float epsilon_;
};

class GroupNormKernel final : public KernelBase {
 public:
  explicit GroupNormKernel(const KernelInfo& info)
      : epsilon_(info.node.attr_float("epsilon", 1e-5f)), groups_(info.node.attr_int("num_groups", 0)),
        per_channel_(info.opset >= 21) {
    if (groups_ <= 0) init_status = Status(StatusCode::kInvalidModel, str_cat("GroupNormalization: num_groups must be > 0, got ", groups_));
  }

  Status compute(KernelContext& ctx) const override {
    return normalize_groups(ctx, "GroupNormalization", "bias", groups_, per_channel_, epsilon_);
  }

 private:
  float epsilon_;
  int64_t groups_;
  bool per_channel_;
};

class BatchNormKernel final : public KernelBase {
 public:
  explicit BatchNormKernel(const KernelInfo& info) {
    epsilon_ = info.node.attr_float("epsilon", 1e-5f);
    momentum_ = info.node.attr_float("momentum", 0.9f);
    training_ = info.opset >= 14 && info.node.attr_int("training_mode", 0) != 0;
    if (info.opset < 9 && info.node.attr_int("spatial", 1) != 1)
      init_status = Status(StatusCode::kUnsupportedOp, "BatchNormalization: attribute spatial=0 is not supported");
  }

  Status compute(KernelContext& ctx) const override {
    const char* op = "BatchNormalization";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    ChannelLayout l;
    HS_RETURN_IF_ERROR(channel_layout(op, *x, &l));
    return dispatch(x->dtype(), kFloats, op, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!kIsFloatType<T>) {
        return dtype_not_supported(op, x->dtype());
      } else {
        using C = AccType<T>;
        std::vector<C> scale, bias, mean, var;
        HS_RETURN_IF_ERROR(channel_param(op, "scale", ctx.input(1), l.channels, &scale));
        HS_RETURN_IF_ERROR(channel_param(op, "B", ctx.input(2), l.channels, &bias));
        HS_RETURN_IF_ERROR(channel_param(op, "input_mean", ctx.input(3), l.channels, &mean));
        HS_RETURN_IF_ERROR(channel_param(op, "input_var", ctx.input(4), l.channels, &var));
        Tensor* y = ctx.output(0, x->dtype(), x->shape());
        if (training_) {
          std::vector<C> batch_mean(l.channels), batch_var(l.channels);
          batch_statistics(x->data<T>(), l, batch_mean.data(), batch_var.data(), ctx.pool());
          HS_RETURN_IF_ERROR(write_running_statistic(ctx, 1, ctx.input(3)->dtype(), mean, batch_mean));
          HS_RETURN_IF_ERROR(write_running_statistic(ctx, 2, ctx.input(4)->dtype(), var, batch_var));
          mean.swap(batch_mean);
          var.swap(batch_var);
        }
        std::vector<C> a(l.channels), b(l.channels);
        for (int64_t c = 0; c < l.channels; ++c) {
          a[c] = scale[c] / std::sqrt(var[c] + static_cast<C>(epsilon_));
          b[c] = bias[c] - mean[c] * a[c];
        }
        if (y->numel() > 0) affine_rows(x->data<T>(), y->data<T>(), a.data(), b.data(), false, l, ctx.pool());
        return Status::ok();
      }
    });
  }

 private:
  // Mean and population variance of each channel over N and the spatial axes (two passes).
  template <typename T, typename C>
  static void batch_statistics(const T* x, const ChannelLayout& l, C* mean, C* var, ThreadPool& pool) {
    const int64_t count = l.batch * l.spatial;
    pool.parallel_for(l.channels, grain_for(count * 2), [&](int64_t begin, int64_t end) {
      std::vector<C> scratch;
      for (int64_t c = begin; c < end; ++c) {
        C sum = 0, squares = 0;
        for (int64_t n = 0; n < l.batch; ++n)
          sum += row_sum(row_in_compute_type(x + (n * l.channels + c) * l.spatial, l.spatial, scratch), l.spatial);
        mean[c] = count ? sum / static_cast<C>(count) : C(0);
        for (int64_t n = 0; n < l.batch; ++n)
          squares += row_sum_squared_deviation(
              row_in_compute_type(x + (n * l.channels + c) * l.spatial, l.spatial, scratch), l.spatial, mean[c]);
        var[c] = count ? squares / static_cast<C>(count) : C(0);
      }
    });
  }

  // Output i (of the running statistic's dtype) = running * momentum + batch * (1 - momentum),
  // when the graph reads it.
  template <typename C>
  Status write_running_statistic(KernelContext& ctx, int i, DType dtype, const std::vector<C>& running,
                                 const std::vector<C>& batch) const {
    if (!ctx.output_wanted(i)) return Status::ok();
    const C m = static_cast<C>(momentum_);
    return dispatch(dtype, kFloats, "BatchNormalization", [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!kIsFloatType<T>) {
        return dtype_not_supported("BatchNormalization", dtype);
      } else {
        T* out = ctx.output(i, dtype, {(int64_t)running.size()})->data<T>();
        for (size_t c = 0; c < running.size(); ++c) out[c] = store_as<T>(running[c] * m + batch[c] * (C(1) - m));
        return Status::ok();
      }
    });
  }

  float epsilon_ = 1e-5f;
  float momentum_ = 0.9f;
  bool training_ = false;
};

HS_REGISTER_KERNEL("", "InstanceNormalization", InstanceNormKernel);
HS_REGISTER_KERNEL("", "GroupNormalization", GroupNormKernel);
HS_REGISTER_KERNEL("", "BatchNormalization", BatchNormKernel);

}  // namespace
}  // namespace hs::cpu
