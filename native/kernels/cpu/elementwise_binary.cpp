// Binary arithmetic with numpy broadcasting: Add Sub Mul Div Pow Mod BitShift.
//
// Algorithm: the broadcast is coalesced into a plan whose innermost axis is contiguous (or
// constant) in both inputs, so same-shape, scalar and bias broadcasts run as flat vectorisable
// loops; the output is split into parallel chunks of linear indices (run_binary in
// elementwise.h). Integer Add/Sub/Mul wrap; integer Div truncates and Mod follows the sign of the
// divisor (Python) unless fmod=1 (C fmod, the sign of the dividend); an integer divisor of zero is
// an ERR_INVALID_ARGUMENT found by a scan of the divisor before computing. Pow takes an exponent
// of any numeric dtype: it is converted once to the base's compute type (float, double, or int64
// / double for integer bases) and the result has the base's dtype.
#include <cmath>
#include <limits>

#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

// ERR_INVALID_ARGUMENT when an integer divisor holds a zero.
template <typename T>
Status check_integer_divisor(const std::string& op, const Tensor& divisor) {
  if constexpr (std::is_integral_v<T>) {
    const T* d = divisor.data<T>();
    const int64_t n = divisor.numel();
    bool has_zero = false;
    for (int64_t i = 0; i < n; ++i) has_zero |= d[i] == 0;
    if (has_zero) HS_FAIL(kInvalidArgument, op, ": integer division by zero");
  }
  return Status::ok();
}

struct AddOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return wrap_add(a, b);
    else return a + b;
  }
};

struct SubOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return wrap_sub(a, b);
    else return a - b;
  }
};

struct MulOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) return wrap_mul(a, b);
    else return a * b;
  }
};

struct DivOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  template <typename T> Status check(const std::string& op, const Tensor& b) const {
    return check_integer_divisor<T>(op, b);
  }
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C> && std::is_signed_v<C>)
      if (b == -1) return wrap_neg(a);  // the most negative value / -1 overflows
    return a / b;
  }
};

struct ModOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;
  explicit ModOp(const KernelInfo& info) : fmod(info.node.attr_int("fmod", 0) != 0) {}
  template <typename T> Status check(const std::string& op, const Tensor& b) const {
    if constexpr (!std::is_integral_v<T>) {
      if (!fmod)
        HS_FAIL(kInvalidModel, op, ": fmod=0 is not defined for ", dtype_name(dtype_of<T>()),
                " inputs (floating-point Mod needs fmod=1)");
    }
    return check_integer_divisor<T>(op, b);
  }
  template <typename C> C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      return std::fmod(a, b);
    } else if constexpr (std::is_unsigned_v<C>) {
      return a % b;
    } else {
      if (b == -1) return 0;  // the most negative value % -1 overflows
      C r = C(a % b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = C(r + b);
      return r;
    }
  }
  bool fmod;
};

// Unsigned integers shifted by b bits (direction LEFT or RIGHT); b >= the width gives 0.
struct BitShiftOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kUnsignedInts;
  explicit BitShiftOp(const KernelInfo& info) : direction(info.node.attr_string("direction", "")), left(direction == "LEFT") {}
  template <typename T> Status check(const std::string& op, const Tensor&) const {
    if (direction == "LEFT" || direction == "RIGHT") return Status::ok();
    HS_FAIL(kInvalidModel, op, ": direction must be LEFT or RIGHT, got '", direction, "'");
  }
  template <typename C> C operator()(C a, C b) const {
    if (b >= sizeof(C) * 8) return 0;
    return left ? C(a << b) : C(a >> b);
  }
  std::string direction;
  bool left;
};

// ---------------------------------------------------------------------------------------------
// Pow.

// base^exp for integers, wrapping; a negative exponent gives the truncated 1/base^-exp.
template <typename I>
I integer_pow(I base, int64_t exp) {
  if (exp < 0) return base == 1 ? I(1) : base == -1 ? I((exp & 1) ? -1 : 1) : I(0);
  I result = 1;
  for (; exp > 0; exp >>= 1) {
    if (exp & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
  }
  return result;
}

// A double into integer type I: truncated, saturated at I's range, NaN as 0.
template <typename I>
I saturate_to(double v) {
  if (!(v == v)) return 0;
  if (v <= (double)std::numeric_limits<I>::lowest()) return std::numeric_limits<I>::lowest();
  if (v >= (double)std::numeric_limits<I>::max()) return std::numeric_limits<I>::max();
  return (I)v;
}

struct PowOp {
  template <typename C, typename E> C operator()(C base, E exp) const {
    if constexpr (std::is_floating_point_v<C>) return std::pow(base, exp);
    else if constexpr (std::is_integral_v<E>) return integer_pow(base, exp);
    else return saturate_to<C>(std::pow((double)base, exp));
  }
};

struct SquareOp {
  float operator()(float base, float) const { return base * base; }
};

// The tensor's values converted to E (a new tensor of E's dtype and the same shape).
template <typename E>
Status convert_elements(const Tensor& t, Tensor* out) {
  *out = Tensor::empty(dtype_of<E>(), t.shape());
  E* dst = out->data<E>();
  const int64_t n = t.numel();
  return dispatch_only<kNumeric>(t.dtype(), "Pow exponent", [&](auto tag) -> Status {
    using S = decltype(tag);
    const S* src = t.data<S>();
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<E>(load_as<ComputeType<S>>(src[i]));
    return Status::ok();
  });
}

class PowKernel final : public KernelBase {
 public:
  explicit PowKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *base, *exponent;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Pow", &base));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Pow", &exponent));
    return dispatch_only<kFloats | kSignedInts>(base->dtype(), "Pow", [&](auto tag) -> Status {
      using T = decltype(tag);
      using C = ComputeType<T>;
      if constexpr (std::is_floating_point_v<C>) return run<T, C>(ctx, *base, *exponent);
      else if (is_float(exponent->dtype())) return run<T, double>(ctx, *base, *exponent);
      else return run<T, int64_t>(ctx, *base, *exponent);
    });
  }

 private:
  // Pow with the exponent read as E (converted first unless it is stored as E already).
  template <typename T, typename E>
  static Status run(KernelContext& ctx, const Tensor& base, const Tensor& exponent) {
    Tensor converted = exponent;
    if (exponent.dtype() != dtype_of<E>()) HS_RETURN_IF_ERROR(convert_elements<E>(exponent, &converted));
    if constexpr (std::is_same_v<T, float>) {
      if (converted.numel() == 1 && converted.data<float>()[0] == 2.f)
        return run_binary<T, E, T>(ctx, "Pow", base, converted, base.dtype(), SquareOp{}, kCheapGrain);
    }
    return run_binary<T, E, T>(ctx, "Pow", base, converted, base.dtype(), PowOp{}, kCostlyGrain);
  }
};

HS_REGISTER_KERNEL("", "Add", BinaryKernel<AddOp>);
HS_REGISTER_KERNEL("", "Sub", BinaryKernel<SubOp>);
HS_REGISTER_KERNEL("", "Mul", BinaryKernel<MulOp>);
HS_REGISTER_KERNEL("", "Div", BinaryKernel<DivOp>);
HS_REGISTER_KERNEL("", "Mod", BinaryKernel<ModOp>);
HS_REGISTER_KERNEL("", "BitShift", BinaryKernel<BitShiftOp>);
HS_REGISTER_KERNEL("", "Pow", PowKernel);

}  // namespace
}  // namespace hs::cpu
