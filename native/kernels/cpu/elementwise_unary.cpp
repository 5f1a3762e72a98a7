// Elementwise math of one input: Abs Neg Sign Ceil Floor Round Reciprocal Sqrt Exp Log Erf, the
// trigonometric and hyperbolic functions, Not, IsInf and IsNaN.
//
// Algorithm: y[i] = f(x[i]) over the flat tensor in parallel chunks (unary_map in elementwise.h);
// float16/bfloat16 compute in float, integers wrap (Abs and Neg of the most negative value give
// itself back), Round is half-to-even. On float32, Tanh uses the vectorised fused-activation code
// and Exp its vector exp (on AVX2 CPUs).
#include <cmath>
#include <cstring>

#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

struct AbsOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>) return std::abs(x);
    else if constexpr (std::is_signed_v<C>) return x < 0 ? wrap_neg(x) : x;
    else return x;
  }
};

struct NegOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats | kSignedInts;
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>) return -x;
    else return wrap_neg(x);
  }
};

// -1, 0 or 1; NaN stays NaN.
struct SignOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  template <typename C> C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>) return x > 0 ? C(1) : x < 0 ? C(-1) : x;
    else if constexpr (std::is_signed_v<C>) return C((x > 0) - (x < 0));
    else return C(x > 0);
  }
};

struct NotOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kBoolType;
  uint8_t operator()(uint8_t x) const { return x == 0; }
};

struct IsNaNOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr bool kToBool = true;
  template <typename C> bool operator()(C x) const { return std::isnan(x); }
};

struct IsInfOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr bool kToBool = true;
  explicit IsInfOp(const KernelInfo& info)
      : detect_negative(info.node.attr_int("detect_negative", 1) != 0),
        detect_positive(info.node.attr_int("detect_positive", 1) != 0) {}
  template <typename C> bool operator()(C x) const {
    return std::isinf(x) && (x > 0 ? detect_positive : detect_negative);
  }
  bool detect_negative, detect_positive;
};

struct TanhOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  static constexpr bool kHasFloatLoop = true;
  void float_loop(const float* x, float* y, int64_t n) const { activation_loop({ActivationKind::kTanh}, x, y, n); }
  template <typename C> C operator()(C x) const { return std::tanh(x); }
};

// e^x on float32, 8 at a time: the fused activations' vector exp (relative error < 1e-7), which
// clamps its argument, so overflow is restored to infinity here.
__attribute__((target("avx2"))) void exp_floats_avx2(const float* x, float* y, int64_t n) {
  using Math = ActivationMath<8>;
  constexpr float kOverflow = 88.72283935546875f;  // ln(FLT_MAX)
  auto exp8 = [](Math::F& v) __attribute__((always_inline)) {
    const Math::F overflows = v > kOverflow ? Math::F{} + 1.f : Math::F{};
    Math::exp(v);
    v = overflows != 0.f ? Math::F{} + INFINITY : v;
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Math::F v;
    std::memcpy(&v, x + i, sizeof v);
    exp8(v);
    std::memcpy(y + i, &v, sizeof v);
  }
  if (i < n) {
    Math::F v = {};
    std::memcpy(&v, x + i, (size_t)(n - i) * sizeof(float));
    exp8(v);
    std::memcpy(y + i, &v, (size_t)(n - i) * sizeof(float));
  }
}

struct ExpOp : UnaryOpDefaults {
  static constexpr unsigned kTypes = kFloats;
  static constexpr int64_t kGrain = kCostlyGrain;
  static constexpr bool kHasFloatLoop = true;
  void float_loop(const float* x, float* y, int64_t n) const {
    if (cpu_has_avx2()) return exp_floats_avx2(x, y, n);
    for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
  }
  template <typename C> C operator()(C x) const { return std::exp(x); }
};

// A float-only op computed by one expression of x (in float for the half types, else in T).
#define HS_FLOAT_UNARY(Name, grain, expr)                     \
  struct Name##Op : UnaryOpDefaults {                         \
    static constexpr unsigned kTypes = kFloats;               \
    static constexpr int64_t kGrain = grain;                  \
    template <typename C> C operator()(C x) const { return expr; } \
  }

HS_FLOAT_UNARY(Ceil, kCheapGrain, std::ceil(x));
HS_FLOAT_UNARY(Floor, kCheapGrain, std::floor(x));
HS_FLOAT_UNARY(Round, kCheapGrain, std::nearbyint(x));  // the default rounding mode: half to even
HS_FLOAT_UNARY(Reciprocal, kCheapGrain, C(1) / x);
HS_FLOAT_UNARY(Sqrt, kCheapGrain, std::sqrt(x));
HS_FLOAT_UNARY(Log, kCostlyGrain, std::log(x));
HS_FLOAT_UNARY(Erf, kCostlyGrain, std::erf(x));
HS_FLOAT_UNARY(Sin, kCostlyGrain, std::sin(x));
HS_FLOAT_UNARY(Cos, kCostlyGrain, std::cos(x));
HS_FLOAT_UNARY(Tan, kCostlyGrain, std::tan(x));
HS_FLOAT_UNARY(Asin, kCostlyGrain, std::asin(x));
HS_FLOAT_UNARY(Acos, kCostlyGrain, std::acos(x));
HS_FLOAT_UNARY(Atan, kCostlyGrain, std::atan(x));
HS_FLOAT_UNARY(Sinh, kCostlyGrain, std::sinh(x));
HS_FLOAT_UNARY(Cosh, kCostlyGrain, std::cosh(x));
HS_FLOAT_UNARY(Asinh, kCostlyGrain, std::asinh(x));
HS_FLOAT_UNARY(Acosh, kCostlyGrain, std::acosh(x));
HS_FLOAT_UNARY(Atanh, kCostlyGrain, std::atanh(x));
#undef HS_FLOAT_UNARY

HS_REGISTER_KERNEL("", "Abs", UnaryKernel<AbsOp>);
HS_REGISTER_KERNEL("", "Neg", UnaryKernel<NegOp>);
HS_REGISTER_KERNEL("", "Sign", UnaryKernel<SignOp>);
HS_REGISTER_KERNEL("", "Not", UnaryKernel<NotOp>);
HS_REGISTER_KERNEL("", "IsNaN", UnaryKernel<IsNaNOp>);
HS_REGISTER_KERNEL("", "IsInf", UnaryKernel<IsInfOp>);
HS_REGISTER_KERNEL("", "Tanh", UnaryKernel<TanhOp>);
HS_REGISTER_KERNEL("", "Ceil", UnaryKernel<CeilOp>);
HS_REGISTER_KERNEL("", "Floor", UnaryKernel<FloorOp>);
HS_REGISTER_KERNEL("", "Round", UnaryKernel<RoundOp>);
HS_REGISTER_KERNEL("", "Reciprocal", UnaryKernel<ReciprocalOp>);
HS_REGISTER_KERNEL("", "Sqrt", UnaryKernel<SqrtOp>);
HS_REGISTER_KERNEL("", "Exp", UnaryKernel<ExpOp>);
HS_REGISTER_KERNEL("", "Log", UnaryKernel<LogOp>);
HS_REGISTER_KERNEL("", "Erf", UnaryKernel<ErfOp>);
HS_REGISTER_KERNEL("", "Sin", UnaryKernel<SinOp>);
HS_REGISTER_KERNEL("", "Cos", UnaryKernel<CosOp>);
HS_REGISTER_KERNEL("", "Tan", UnaryKernel<TanOp>);
HS_REGISTER_KERNEL("", "Asin", UnaryKernel<AsinOp>);
HS_REGISTER_KERNEL("", "Acos", UnaryKernel<AcosOp>);
HS_REGISTER_KERNEL("", "Atan", UnaryKernel<AtanOp>);
HS_REGISTER_KERNEL("", "Sinh", UnaryKernel<SinhOp>);
HS_REGISTER_KERNEL("", "Cosh", UnaryKernel<CoshOp>);
HS_REGISTER_KERNEL("", "Asinh", UnaryKernel<AsinhOp>);
HS_REGISTER_KERNEL("", "Acosh", UnaryKernel<AcoshOp>);
HS_REGISTER_KERNEL("", "Atanh", UnaryKernel<AtanhOp>);

}  // namespace
}  // namespace hs::cpu
