// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear, the operators of quantised (QDQ and
// dynamically quantised) models:
//   QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)
//   DequantizeLinear: y = (x - zero_point) * scale
// with one scale (and zero point) for the tensor, one per index of `axis`, or (opset 21) one per
// block of `block_size` indices along `axis`. The arithmetic is float32, as onnxruntime's.
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/quantize_params.h"

namespace hs::cpu {

Status QuantAxis::resolve(const char* op, const Shape& x, const Shape& scale, const Shape* zero_point, int64_t axis,
                          int64_t block_size) {
  if (zero_point && *zero_point != scale)
    HS_FAIL(kShape, op, ": the zero point's shape ", *zero_point, " differs from the scale's ", scale);
  const bool scalar = shape_numel(scale) == 1 && scale.size() <= 1;
  if (scalar && block_size <= 0) {
    layout = AxisLayout{shape_numel(x), 1, 1};  // every element an outer row: parallel over all of them
    mode = Mode::kTensor;
    return Status::ok();
  }
  int64_t a = 0;
  HS_RETURN_IF_ERROR(normalize_axis_of(op, axis, (int64_t)x.size(), &a));
  layout = layout_around(x, a);
  if (block_size <= 0) {
    if (scale.size() != 1 || scale[0] != layout.axis_len)
      HS_FAIL(kShape, op, ": a per-axis scale must be 1-D with x's axis ", a, " length ", layout.axis_len, ", got ", scale);
    mode = Mode::kAxis;
    return Status::ok();
  }
  Shape expected = x;
  expected[(size_t)a] = (layout.axis_len + block_size - 1) / block_size;
  if (scale != expected)
    HS_FAIL(kShape, op, ": a blocked scale (block_size ", block_size, ") must have shape ", expected, ", got ", scale);
  mode = Mode::kBlocked;
  block = block_size;
  blocks = expected[(size_t)a];
  return Status::ok();
}

DType quantize_output_type(const Node& node) {
  const int64_t t = node.attr_int("output_dtype", 0);
  DType d = DType::kUint8;
  if (t != 0 && !dtype_from_onnx((int32_t)t, &d)) d = DType::kUndefined;
  return d;
}

namespace {

// Runs f(element, scale index) for every element of x, in parallel chunks of outer rows.
template <typename F>
void for_each_scaled(ThreadPool& pool, const QuantAxis& q, F&& f) {
  const AxisLayout& l = q.layout;
  pool.parallel_for(l.outer, grain_for(l.axis_len * l.inner), [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      for (int64_t a = 0; a < l.axis_len; ++a) {
        const int64_t e = (o * l.axis_len + a) * l.inner;
        for (int64_t i = 0; i < l.inner; ++i) f(e + i, q.scale_index(o, a, i));
      }
  });
}

class QuantizeLinear final : public KernelBase {
 public:
  explicit QuantizeLinear(const KernelInfo& info)
      : axis_(info.node.attr_int("axis", 1)), block_size_(info.node.attr_int("block_size", 0)),
        output_type_(quantize_output_type(info.node)) {
    if (block_size_ < 0) init_status = Status(StatusCode::kInvalidModel, "QuantizeLinear: block_size must be >= 0");
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *x, *scale;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "QuantizeLinear", &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "QuantizeLinear", &scale));
    const Tensor* zero_point = ctx.input(2);
    const DType out_type = zero_point ? zero_point->dtype() : output_type_;
    QuantAxis q;
    HS_RETURN_IF_ERROR(q.resolve("QuantizeLinear", x->shape(), scale->shape(), zero_point ? &zero_point->shape() : nullptr, axis_,
                                  block_size_));
    auto xf = as_float32(*x);
    auto sf = as_float32(*scale);
    HS_RETURN_IF_ERROR(xf.status());
    HS_RETURN_IF_ERROR(sf.status());
    Tensor* y = ctx.output(0, out_type, x->shape());
    const float* xd = xf.value().data<float>();
    const float* sd = sf.value().data<float>();
    return dispatch_quantized(out_type, "QuantizeLinear", [&](auto tag) -> Status {
      using Q = decltype(tag);
      const Q* zd = zero_point ? zero_point->data<Q>() : nullptr;
      Q* yd = y->data<Q>();
      for_each_scaled(ctx.pool(), q, [&](int64_t e, int64_t s) {
        yd[e] = saturate_round<Q>(xd[e] / sd[s], zd ? (float)zd[s] : 0.f);
      });
      return Status::ok();
    });
  }

 private:
  int64_t axis_, block_size_;
  DType output_type_;
};

class DequantizeLinear final : public KernelBase {
 public:
  explicit DequantizeLinear(const KernelInfo& info)
      : axis_(info.node.attr_int("axis", 1)), block_size_(info.node.attr_int("block_size", 0)) {
    if (block_size_ < 0) init_status = Status(StatusCode::kInvalidModel, "DequantizeLinear: block_size must be >= 0");
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *x, *scale;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "DequantizeLinear", &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "DequantizeLinear", &scale));
    const Tensor* zero_point = ctx.input(2);
    if (zero_point && zero_point->dtype() != x->dtype())
      HS_FAIL(kType, "DequantizeLinear: the zero point is ", dtype_name(zero_point->dtype()), ", x is ",
              dtype_name(x->dtype()));
    if (!is_float(scale->dtype())) HS_FAIL(kType, "DequantizeLinear: the scale must be a float type, got ", dtype_name(scale->dtype()));
    QuantAxis q;
    HS_RETURN_IF_ERROR(q.resolve("DequantizeLinear", x->shape(), scale->shape(), zero_point ? &zero_point->shape() : nullptr, axis_,
                                  block_size_));
    auto sf = as_float32(*scale);
    HS_RETURN_IF_ERROR(sf.status());
    const float* sd = sf.value().data<float>();
    Tensor* y = ctx.output(0, scale->dtype(), x->shape());
    Tensor yf = y->dtype() == DType::kFloat32 ? *y : Tensor::empty(DType::kFloat32, x->shape());
    float* yd = yf.data<float>();
    auto run = [&](auto tag) -> Status {
      using Q = decltype(tag);
      const Q* xd = x->data<Q>();
      const Q* zd = zero_point ? zero_point->data<Q>() : nullptr;
      for_each_scaled(ctx.pool(), q, [&](int64_t e, int64_t s) {
        yd[e] = (float)((int64_t)xd[e] - (zd ? (int64_t)zd[s] : 0)) * sd[s];
      });
      return Status::ok();
    };
    if (x->dtype() == DType::kInt32) HS_RETURN_IF_ERROR(run(int32_t{}));
    else HS_RETURN_IF_ERROR(dispatch_quantized(x->dtype(), "DequantizeLinear", run));
    return store_from_float32(yf, y);
  }

 private:
  int64_t axis_, block_size_;
};

// x float32 -> uint8 with one scale and zero point from x's range widened to include 0, as
// onnxruntime computes them: scale = (max - min) / 255 (1 when the range is empty),
// zero_point = round_half_even(clamp(-min / scale, 0, 255)).
class DynamicQuantizeLinear final : public KernelBase {
 public:
  explicit DynamicQuantizeLinear(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "DynamicQuantizeLinear", &x));
    if (x->dtype() != DType::kFloat32)
      HS_FAIL(kType, "DynamicQuantizeLinear takes float32, got ", dtype_name(x->dtype()));
    const float* xd = x->data<float>();
    const int64_t n = x->numel();
    float lo = 0.f, hi = 0.f;
    for (int64_t i = 0; i < n; ++i) {  // NaN compares false and leaves the range as it was
      lo = xd[i] < lo ? xd[i] : lo;
      hi = xd[i] > hi ? xd[i] : hi;
    }
    const float scale = hi == lo ? 1.f : (hi - lo) / 255.f;
    const uint8_t zero_point = (uint8_t)std::nearbyint(std::min(255.f, std::max(0.f, -lo / scale)));
    Tensor* y = ctx.output(0, DType::kUint8, x->shape());
    *ctx.output(1, DType::kFloat32, {})->data<float>() = scale;
    *ctx.output(2, DType::kUint8, {})->data<uint8_t>() = zero_point;
    uint8_t* yd = y->data<uint8_t>();
    ctx.pool().parallel_for(n, 1 << 14, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) yd[i] = saturate_round<uint8_t>(xd[i] / scale, (float)zero_point);
    });
    return Status::ok();
  }
};

}  // namespace

HS_REGISTER_KERNEL("", "QuantizeLinear", QuantizeLinear);
HS_REGISTER_KERNEL("", "DequantizeLinear", DequantizeLinear);
HS_REGISTER_KERNEL("", "DynamicQuantizeLinear", DynamicQuantizeLinear);

}  // namespace hs::cpu
