// Activation functions: Relu LeakyRelu Elu Selu Celu HardSigmoid HardSwish Mish Sigmoid Softplus
// Softsign ThresholdedRelu Gelu (opset 20; approximate 'none' or 'tanh') Shrink, Clip (bounds from attributes before opset 11, from optional scalar
// inputs after) and PRelu (slope broadcast to the input's shape).
//
// Algorithm: y[i] = f(x[i]) over the flat tensor in parallel chunks (unary_map in elementwise.h).
// On float32, the functions that the fused-activation code also implements (Relu, LeakyRelu,
// Sigmoid, HardSigmoid, HardSwish, Gelu, Clip) go through its vectorised form (activation_loop: copy a
// chunk, transform it in place). Softplus is computed as max(x, 0) + log1p(exp(-|x|)), which
// neither overflows nor loses the small values; Elu and Celu use expm1 near zero.
#include <cfloat>
#include <cmath>
#include <limits>

#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

template <typename C> C softplus(C x) {
  return (x > 0 ? x : C(0)) + std::log1p(std::exp(-std::abs(x)));
}

struct ReluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats | kSignedInts;
  static constexpr bool kHasFloatLoop = true;
  void float_loop(const float* x, float* y, int64_t n) const { activation_loop({ActivationKind::kRelu}, x, y, n); }
  template <typename C> C operator()(C x) const { return x < 0 ? C(0) : x; }
};

struct LeakyReluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr bool kHasFloatLoop = true;
  explicit LeakyReluOp(const KernelInfo& info) : alpha(info.node.attr_float("alpha", 0.01f)) {}
  void float_loop(const float* x, float* y, int64_t n) const {
    activation_loop({ActivationKind::kLeakyRelu, alpha}, x, y, n);
  }
  template <typename C> C operator()(C x) const { return x < 0 ? x * C(alpha) : x; }
  float alpha;
};

struct SigmoidOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  static constexpr bool kHasFloatLoop = true;
  void float_loop(const float* x, float* y, int64_t n) const { activation_loop({ActivationKind::kSigmoid}, x, y, n); }
  // exp of a non-positive argument only, so neither side overflows.
  template <typename C> C operator()(C x) const {
    const C e = std::exp(-std::abs(x));
    return x >= 0 ? C(1) / (C(1) + e) : e / (C(1) + e);
  }
};

struct HardSigmoidOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr bool kHasFloatLoop = true;
  explicit HardSigmoidOp(const KernelInfo& info)
      : alpha(info.node.attr_float("alpha", 0.2f)), beta(info.node.attr_float("beta", 0.5f)) {}
  void float_loop(const float* x, float* y, int64_t n) const {
    activation_loop({ActivationKind::kHardSigmoid, alpha, beta}, x, y, n);
  }
  template <typename C> C operator()(C x) const { return std::min(C(1), std::max(C(0), x * C(alpha) + C(beta))); }
  float alpha, beta;
};

struct HardSwishOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr bool kHasFloatLoop = true;
  void float_loop(const float* x, float* y, int64_t n) const { activation_loop({ActivationKind::kHardSwish}, x, y, n); }
  template <typename C> C operator()(C x) const {
    return x * std::min(C(1), std::max(C(0), x / C(6) + C(0.5)));
  }
};

struct EluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  explicit EluOp(const KernelInfo& info) : alpha(info.node.attr_float("alpha", 1.f)) {}
  template <typename C> C operator()(C x) const { return x < 0 ? C(alpha) * std::expm1(x) : x; }
  float alpha;
};

struct SeluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  explicit SeluOp(const KernelInfo& info)
      : alpha(info.node.attr_float("alpha", 1.67326319217681884765625f)),
        gamma(info.node.attr_float("gamma", 1.05070102214813232421875f)) {}
  template <typename C> C operator()(C x) const {
    return C(gamma) * (x > 0 ? x : C(alpha) * std::expm1(x));
  }
  float alpha, gamma;
};

struct CeluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  explicit CeluOp(const KernelInfo& info) : alpha(info.node.attr_float("alpha", 1.f)) {}
  template <typename C> C operator()(C x) const { return x > 0 ? x : C(alpha) * std::expm1(x / C(alpha)); }
  float alpha;
};

struct MishOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  template <typename C> C operator()(C x) const { return x * std::tanh(softplus(x)); }
};

struct SoftplusOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  template <typename C> C operator()(C x) const { return softplus(x); }
};

struct SoftsignOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  template <typename C> C operator()(C x) const { return x / (C(1) + std::abs(x)); }
};

struct ThresholdedReluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  explicit ThresholdedReluOp(const KernelInfo& info) : alpha(info.node.attr_float("alpha", 1.f)) {}
  template <typename C> C operator()(C x) const { return x > C(alpha) ? x : C(0); }
  float alpha;
};

struct GeluOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  static constexpr bool kHasFloatLoop = true;
  explicit GeluOp(const KernelInfo& info)
      : approximate(info.node.attr_string("approximate", "none")), tanh_form(approximate == "tanh") {}
  Status check() const {
    if (approximate == "none" || approximate == "tanh") return Status::ok();
    HS_FAIL(kUnsupportedOp, "Gelu: approximate='", approximate, "' is not supported");
  }
  void float_loop(const float* x, float* y, int64_t n) const {
    activation_loop({tanh_form ? ActivationKind::kGeluTanh : ActivationKind::kGelu}, x, y, n);
  }
  // 0.5 x (1 + erf(x / sqrt 2)), or 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
  template <typename C> C operator()(C x) const {
    if (tanh_form) return C(0.5) * x * (C(1) + std::tanh(C(0.7978845608028654) * (x + C(0.044715) * x * x * x)));
    return C(0.5) * x * (C(1) + std::erf(x * C(0.7071067811865476)));
  }
  std::string approximate;
  bool tanh_form;
};

// x + bias below -lambd, x - bias above lambd, 0 between.
struct ShrinkOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  explicit ShrinkOp(const KernelInfo& info)
      : lambd(info.node.attr_float("lambd", 0.5f)), bias(info.node.attr_float("bias", 0.f)) {}
  template <typename C> C operator()(C x) const {
    const double v = (double)x;
    return v < -lambd ? C(v + bias) : v > lambd ? C(v - bias) : C(0);
  }
  float lambd, bias;
};

// max(lo, min(x, hi)) written so that NaN passes through.
template <typename C>
struct ClampOp {
  C operator()(C x) const {
    const C low = x < lo ? lo : x;
    return low > hi ? hi : low;
  }
  C lo, hi;
};

class ClipKernel final : public KernelBase {
 public:
  explicit ClipKernel(const KernelInfo& info)
      : bounds_from_inputs_(info.opset >= 11),
        attr_min_(info.node.attr_float("min", -FLT_MAX)),
        attr_max_(info.node.attr_float("max", FLT_MAX)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Clip", &x));
    return dispatch_only<kNumeric>(x->dtype(), "Clip", [&](auto tag) -> Status {
      using T = decltype(tag);
      using C = ComputeType<T>;
      ClampOp<C> clamp{std::numeric_limits<C>::lowest(), std::numeric_limits<C>::max()};
      if constexpr (std::is_floating_point_v<C>)
        clamp = {-std::numeric_limits<C>::infinity(), std::numeric_limits<C>::infinity()};
      if (bounds_from_inputs_) {
        HS_RETURN_IF_ERROR(read_bound<T>(ctx, 1, "min", *x, &clamp.lo));
        HS_RETURN_IF_ERROR(read_bound<T>(ctx, 2, "max", *x, &clamp.hi));
      } else if constexpr (std::is_floating_point_v<C>) {
        clamp = {C(attr_min_), C(attr_max_)};
      } else {
        HS_FAIL(kType, "Clip before opset 11 supports float types only, got ", dtype_name(x->dtype()));
      }
      Tensor* y = ctx.output(0, x->dtype(), x->shape());
      if constexpr (std::is_same_v<T, float>) {
        const Activation act{ActivationKind::kClip, clamp.lo, clamp.hi};
        const float* xs = x->data<float>();
        float* ys = y->data<float>();
        ctx.pool().parallel_for(x->numel(), kCheapGrain,
                                [&](int64_t begin, int64_t end) { activation_loop(act, xs + begin, ys + begin, end - begin); });
      } else {
        unary_map(ctx.pool(), x->data<T>(), y->data<T>(), x->numel(), clamp, kCheapGrain);
      }
      return Status::ok();
    });
  }

 private:
  // Input i (a one-element tensor of x's dtype) into *bound; nothing when the input is omitted.
  template <typename T, typename C>
  static Status read_bound(const KernelContext& ctx, int i, const char* what, const Tensor& x, C* bound) {
    const Tensor* t = ctx.input(i);
    if (!t) return Status::ok();
    if (t->dtype() != x.dtype())
      HS_FAIL(kType, "Clip: ", what, " has dtype ", dtype_name(t->dtype()), ", input has ", dtype_name(x.dtype()));
    if (t->numel() != 1) HS_FAIL(kShape, "Clip: ", what, " must be a scalar, got shape ", shape_str(t->shape()));
    *bound = load_as<C>(t->data<T>()[0]);
    return Status::ok();
  }

  bool bounds_from_inputs_;
  float attr_min_, attr_max_;
};

struct PReluOp : BinaryOpDefaults {
  template <typename C> C operator()(C x, C slope) const {
    if constexpr (std::is_unsigned_v<C>) return x;
    else if constexpr (std::is_floating_point_v<C>) return x < 0 ? x * slope : x;
    else return x < 0 ? wrap_mul(x, slope) : x;
  }
};

// PRelu broadcasts the slope to the input ("unidirectional"): the output has the input's shape.
class PReluKernel final : public KernelBase {
 public:
  explicit PReluKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *x, *slope;
    HS_RETURN_IF_ERROR(binary_inputs(ctx, "PRelu", &x, &slope));
    Shape out_shape;
    HS_RETURN_IF_ERROR(broadcast_all("PRelu", {&x->shape(), &slope->shape()}, &out_shape));
    if (out_shape != x->shape())
      HS_FAIL(kShape, "PRelu: slope of shape ", shape_str(slope->shape()), " does not broadcast to input shape ",
              shape_str(x->shape()));
    return dispatch_only<kNumeric>(x->dtype(), "PRelu", [&](auto tag) -> Status {
      using T = decltype(tag);
      return run_binary<T, T, T>(ctx, "PRelu", *x, *slope, x->dtype(), PReluOp{}, kCheapGrain);
    });
  }
};

HS_REGISTER_KERNEL("", "Relu", UnaryKernel<ReluOp>);
HS_REGISTER_KERNEL("", "LeakyRelu", UnaryKernel<LeakyReluOp>);
HS_REGISTER_KERNEL("", "Sigmoid", UnaryKernel<SigmoidOp>);
HS_REGISTER_KERNEL("", "HardSigmoid", UnaryKernel<HardSigmoidOp>);
HS_REGISTER_KERNEL("", "HardSwish", UnaryKernel<HardSwishOp>);
HS_REGISTER_KERNEL("", "Elu", UnaryKernel<EluOp>);
HS_REGISTER_KERNEL("", "Selu", UnaryKernel<SeluOp>);
HS_REGISTER_KERNEL("", "Celu", UnaryKernel<CeluOp>);
HS_REGISTER_KERNEL("", "Mish", UnaryKernel<MishOp>);
HS_REGISTER_KERNEL("", "Softplus", UnaryKernel<SoftplusOp>);
HS_REGISTER_KERNEL("", "Softsign", UnaryKernel<SoftsignOp>);
HS_REGISTER_KERNEL("", "ThresholdedRelu", UnaryKernel<ThresholdedReluOp>);
HS_REGISTER_KERNEL("", "Gelu", UnaryKernel<GeluOp>);
HS_REGISTER_KERNEL("", "Shrink", UnaryKernel<ShrinkOp>);
HS_REGISTER_KERNEL("", "Clip", ClipKernel);
HS_REGISTER_KERNEL("", "PRelu", PReluKernel);

}  // namespace
}  // namespace hs::cpu
