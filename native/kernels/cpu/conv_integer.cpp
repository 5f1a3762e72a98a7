// ConvInteger and QLinearConv: 1-D and 2-D convolutions of uint8 / int8 tensors with zero points
// (Conv's attributes: auto_pad, strides, dilations, pads, group):
//   ConvInteger: Y (int32) = conv(X - x_zero_point, W - w_zero_point)
//   QLinearConv: Y = saturate(round_half_even((that + B) * (x_scale * w_scale / y_scale)) + y_zero_point)
// X's zero point is one value; W's zero point and scale one value or one per output channel; B
// (int32) one per output channel. Padding reads X's zero point, so it adds nothing. Each image and
// group is an im2col of X - x_zero_point (int32) times W - w_zero_point (widened once at build
// time when W is a constant), exact: by the AVX2 int16 kernel (int_gemm_avx2.h), else through the
// float GEMM (int_gemm_split.h) while the im2col's rows allow, else in an i-k-j loop.
#include <array>
#include <vector>

#include "kernels/cpu/conv_geometry.h"
#include "kernels/cpu/int_gemm_avx2.h"
#include "kernels/cpu/int_gemm_split.h"
#include "kernels/cpu/quantize_params.h"

namespace hs::cpu {
namespace {

// W [M, C/group, k...] less its zero point (per tensor or per output channel) as int32.
std::vector<int32_t> widen_weights(const Tensor& w, const Tensor* zp) {
  std::vector<int32_t> out((size_t)w.numel());
  const int64_t per_channel = w.numel() / std::max<int64_t>(w.dim(0), 1);
  for (int64_t e = 0; e < w.numel(); ++e)
    out[(size_t)e] = int8_value(w, e) - (zp ? int8_value(*zp, zp->numel() == 1 ? 0 : e / per_channel) : 0);
  return out;
}

class IntegerConvBase : public KernelBase {
 protected:
  IntegerConvBase(const KernelInfo& info, const char* op, int w_index, int w_zp_index)
      : op_(op), w_index_(w_index), group_(info.node.attr_int("group", 1)) {
    init_status = parse_window_attrs(info.node, &attrs_);
    if (group_ < 1) init_status = Status(StatusCode::kInvalidModel, str_cat(op, ": group must be >= 1, got ", group_));
    const Tensor* w = info.constant_input((size_t)w_index);
    const bool zp_given = (size_t)w_zp_index < info.node.inputs.size() && !info.node.inputs[(size_t)w_zp_index].empty();
    const Tensor* w_zp = info.constant_input((size_t)w_zp_index);
    // Anything wrong with them is reported at run time, by accumulate().
    if (w && w->rank() >= 3 && (!zp_given || w_zp) && check_int8_operand(op, "W", *w, w_zp).is_ok() &&
        check_one_or_per(op, "W's zero point", w_zp, w->dim(0), "output channel").is_ok()) {
      w_widened_ = widen_weights(*w, w_zp);
      w_shape_ = w->shape();
    }
  }

  // acc[N, M, out...] = conv(X - x_zp, W - w_zp); *y_shape receives its shape.
  Status accumulate(KernelContext& ctx, const Tensor* x_zp, const Tensor* w_zp, Shape* y_shape,
                    std::vector<int32_t>* acc) const {
    const Tensor *x, *w;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op_, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, w_index_, op_, &w));
    HS_RETURN_IF_ERROR(check_int8_operand(op_, "X", *x, x_zp));
    HS_RETURN_IF_ERROR(check_int8_operand(op_, "W", *w, w_zp));
    if (x->rank() != w->rank() || x->rank() < 3 || x->rank() > 4)
      HS_FAIL(kShape, op_, " takes 1-D and 2-D convolutions: X ", x->shape(), " and W ", w->shape(), " must both have rank 3 or 4");
    if (x_zp && x_zp->numel() != 1) HS_FAIL(kShape, op_, ": X's zero point must be a scalar, got ", x_zp->shape());
    const int64_t batch = x->dim(0), channels = x->dim(1), out_channels = w->dim(0), group_channels = w->dim(1);
    if (channels != group_channels * group_ || out_channels % group_ != 0)
      HS_FAIL(kShape, op_, ": X ", x->shape(), " and W ", w->shape(), " do not agree with group ", group_);
    HS_RETURN_IF_ERROR(check_one_or_per(op_, "W's zero point", w_zp, out_channels, "output channel"));
    // 1-D convolutions run as 2-D ones of height 1.
    const bool one_d = x->rank() == 3;
    const std::vector<int64_t> in = one_d ? std::vector<int64_t>{x->dim(2)} : std::vector<int64_t>{x->dim(2), x->dim(3)};
    const std::vector<int64_t> kernel = one_d ? std::vector<int64_t>{w->dim(2)} : std::vector<int64_t>{w->dim(2), w->dim(3)};
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      HS_FAIL(kShape, op_, ": kernel_shape ", attrs_.kernel_shape, " differs from W's ", kernel);
    WindowGeometry g;
    HS_RETURN_IF_ERROR(forward_window(attrs_, kernel, in, &g));
    // [height, width] of each geometry vector (height 1, no stride, pad or dilation for 1-D).
    auto hw = [&](const std::vector<int64_t>& v, int64_t fill) {
      return one_d ? std::array<int64_t, 2>{fill, v[0]} : std::array<int64_t, 2>{v[0], v[1]};
    };
    const auto i2 = hw(in, 1), k2 = hw(kernel, 1), s2 = hw(g.strides, 1), d2 = hw(g.dilations, 1), p2 = hw(g.pad_begin, 0),
               o2 = hw(g.out, 1);
    const int64_t ih = i2[0], iw = i2[1], kh = k2[0], kw = k2[1], sh = s2[0], sw = s2[1], dh = d2[0], dw = d2[1];
    const int64_t ph = p2[0], pw = p2[1], oh = o2[0], ow = o2[1];

    *y_shape = {batch, out_channels};
    y_shape->insert(y_shape->end(), g.out.begin(), g.out.end());
    acc->assign((size_t)shape_numel(*y_shape), 0);
    if (acc->empty()) return Status::ok();
    const bool packed = !w_widened_.empty() && w->shape() == w_shape_;
    const std::vector<int32_t> ww = packed ? std::vector<int32_t>() : widen_weights(*w, w_zp);
    const int32_t* wd = packed ? w_widened_.data() : ww.data();
    const int32_t xz = x_zp ? int8_value(*x_zp, 0) : 0;
    const int64_t ckk = group_channels * kh * kw, pixels = oh * ow, m_per_group = out_channels / group_;
    // Images and groups one after another, each an im2col and one product (threaded inside).
    std::vector<int32_t> col((size_t)(ckk * pixels));
    const bool int16 = int16_gemm_available() && Int16Panels::fits(ckk);
    const std::vector<float> wf = !int16 && ckk <= kSplitGemmMaxK ? std::vector<float>(wd, wd + out_channels * ckk) : std::vector<float>();
    for (int64_t item = 0; item < batch * group_; ++item) {
      const int64_t n = item / group_, grp = item % group_;
      // col[(c, i, j), pixel] = X[n, grp * C/group + c, input row and column of tap (i, j)] - x_zp, 0 in the pads.
      for (int64_t c = 0; c < group_channels; ++c)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            int32_t* dst = col.data() + ((c * kh + i) * kw + j) * pixels;
            const int64_t plane = (n * channels + grp * group_channels + c) * ih * iw;
            for (int64_t r = 0; r < oh; ++r) {
              const int64_t y_in = r * sh - ph + i * dh;
              for (int64_t q = 0; q < ow; ++q) {
                const int64_t x_in = q * sw - pw + j * dw;
                const bool inside = y_in >= 0 && y_in < ih && x_in >= 0 && x_in < iw;
                dst[r * ow + q] = inside ? int8_value(*x, plane + y_in * iw + x_in) - xz : 0;
              }
            }
          }
      int32_t* y = acc->data() + (n * out_channels + grp * m_per_group) * pixels;
      if (int16) {
        int16_gemm(m_per_group, wd + grp * m_per_group * ckk, Int16Panels::pack(col.data(), ckk, pixels), y, &ctx.pool());
        continue;
      }
      if (!wf.empty()) {
        const GemmOperand w_group{wf.data() + grp * m_per_group * ckk, ckk, false};
        split_int_gemm(m_per_group, pixels, ckk, false, col.data(), w_group, y, &ctx.pool());
        continue;
      }
      ctx.pool().parallel_for(m_per_group, 1, [&](int64_t begin, int64_t end) {
        for (int64_t m = begin; m < end; ++m) {
          int32_t* row = y + m * pixels;
          const int32_t* wrow = wd + (grp * m_per_group + m) * ckk;
          for (int64_t k = 0; k < ckk; ++k) {
            const int32_t wv = wrow[k];
            const int32_t* crow = col.data() + k * pixels;
            for (int64_t p = 0; p < pixels; ++p) row[p] += wv * crow[p];
          }
        }
      });
    }
    return Status::ok();
  }

  const char* op_;

 private:
  int w_index_;
  int64_t group_;
  WindowAttrs attrs_;
  std::vector<int32_t> w_widened_;  // W - w_zero_point, when both are constants
  Shape w_shape_;
};

class ConvInteger final : public IntegerConvBase {
 public:
  explicit ConvInteger(const KernelInfo& info) : IntegerConvBase(info, "ConvInteger", 1, 3) {}

  Status compute(KernelContext& ctx) const override {
    Shape y_shape;
    std::vector<int32_t> acc;
    HS_RETURN_IF_ERROR(accumulate(ctx, ctx.input(2), ctx.input(3), &y_shape, &acc));
    std::copy(acc.begin(), acc.end(), ctx.output(0, DType::kInt32, y_shape)->data<int32_t>());
    return Status::ok();
  }
};

class QLinearConv final : public IntegerConvBase {
 public:
  explicit QLinearConv(const KernelInfo& info) : IntegerConvBase(info, "QLinearConv", 3, 5) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *x_scale, *w_scale, *y_scale, *y_zp;
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op_, &x_scale));
    HS_RETURN_IF_ERROR(require_input(ctx, 4, op_, &w_scale));
    HS_RETURN_IF_ERROR(require_input(ctx, 6, op_, &y_scale));
    HS_RETURN_IF_ERROR(require_input(ctx, 7, op_, &y_zp));
    const Tensor* bias = ctx.input(8);
    for (const Tensor* t : {x_scale, w_scale, y_scale})
      if (t->dtype() != DType::kFloat32) HS_FAIL(kType, op_, ": scales must be float32, got ", dtype_name(t->dtype()));
    if (x_scale->numel() != 1 || y_scale->numel() != 1 || y_zp->numel() != 1)
      HS_FAIL(kShape, op_, ": x_scale, y_scale and y_zero_point must be scalars");
    Shape y_shape;
    std::vector<int32_t> acc;
    HS_RETURN_IF_ERROR(accumulate(ctx, ctx.input(2), ctx.input(5), &y_shape, &acc));
    const int64_t channels = y_shape[1], pixels = shape_numel(y_shape) / std::max<int64_t>(y_shape[0] * channels, 1);
    HS_RETURN_IF_ERROR(check_one_or_per(op_, "w_scale", w_scale, channels, "output channel"));
    if (bias && (bias->dtype() != DType::kInt32 || bias->rank() != 1 || bias->dim(0) != channels))
      HS_FAIL(kShape, op_, ": B must be int32 with ", channels, " values, got ", dtype_name(bias->dtype()), " ", bias->shape());
    Tensor* y = ctx.output(0, y_zp->dtype(), y_shape);
    const float xs = x_scale->data<float>()[0], ys = y_scale->data<float>()[0];
    const float* ws = w_scale->data<float>();
    return dispatch_quantized(y_zp->dtype(), op_, [&](auto tag) -> Status {
      using Q = decltype(tag);
      const float zp = (float)y_zp->data<Q>()[0];
      Q* yd = y->data<Q>();
      for (int64_t e = 0; e < (int64_t)acc.size(); ++e) {
        const int64_t m = e / pixels % channels;
        const float multiplier = xs * ws[w_scale->numel() == 1 ? 0 : m] / ys;
        const int32_t sum = acc[(size_t)e] + (bias ? bias->data<int32_t>()[m] : 0);
        yd[e] = saturate_round<Q>((float)sum * multiplier, zp);
      }
      return Status::ok();
    });
  }
};

}  // namespace

HS_REGISTER_KERNEL("", "ConvInteger", ConvInteger);
HS_REGISTER_KERNEL("", "QLinearConv", QLinearConv);

}  // namespace hs::cpu
