// Comparisons (Equal Greater GreaterOrEqual Less LessOrEqual) and logic (And Or Xor) with numpy
// broadcasting; every output is bool.
//
// Algorithm: the binary broadcast plan of elementwise.h (run_binary): contiguous inner loops over
// coalesced axes, parallel chunks of the output. float16/bfloat16 compare in float; bools are
// bytes, and any non-zero byte counts as true (so Equal and the logic ops normalise them first).
#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

#define HS_COMPARE_OP(Name, expr)                                        \
  struct Name##Op : BinaryOpDefaults {                                   \
    static constexpr unsigned kTypes = kNumeric;                         \
    static constexpr bool kToBool = true;                                \
    template <typename C> bool operator()(C a, C b) const { return expr; } \
  }

HS_COMPARE_OP(Greater, a > b);
HS_COMPARE_OP(GreaterOrEqual, a >= b);
HS_COMPARE_OP(Less, a < b);
HS_COMPARE_OP(LessOrEqual, a <= b);
#undef HS_COMPARE_OP

struct EqualOp : BinaryOpDefaults {
  static constexpr unsigned kTypes = kNumeric;  // bool goes through BoolEqualOp
  static constexpr bool kToBool = true;
  template <typename C> bool operator()(C a, C b) const { return a == b; }
};

// Equal of bools, which are bytes here.
struct BoolEqualOp {
  bool operator()(uint8_t a, uint8_t b) const { return (a != 0) == (b != 0); }
};

class EqualKernel final : public KernelBase {
 public:
  explicit EqualKernel(const KernelInfo& info) : numeric_(info) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *a, *b;
    HS_RETURN_IF_ERROR(binary_inputs(ctx, "Equal", &a, &b));
    if (a->dtype() == DType::kBool)
      return run_binary<uint8_t, uint8_t, bool>(ctx, "Equal", *a, *b, DType::kBool, BoolEqualOp{}, kCheapGrain);
    return numeric_.compute(ctx);
  }

 private:
  BinaryKernel<EqualOp> numeric_;
};

#define HS_LOGIC_OP(Name, expr)                                                       \
  struct Name##Op : BinaryOpDefaults {                                                \
    static constexpr unsigned kTypes = kBoolType;                                     \
    uint8_t operator()(uint8_t a, uint8_t b) const { return expr; }                   \
  }

HS_LOGIC_OP(And, (a != 0) & (b != 0));
HS_LOGIC_OP(Or, (a != 0) | (b != 0));
HS_LOGIC_OP(Xor, (a != 0) ^ (b != 0));
#undef HS_LOGIC_OP

HS_REGISTER_KERNEL("", "Equal", EqualKernel);
HS_REGISTER_KERNEL("", "Greater", BinaryKernel<GreaterOp>);
HS_REGISTER_KERNEL("", "GreaterOrEqual", BinaryKernel<GreaterOrEqualOp>);
HS_REGISTER_KERNEL("", "Less", BinaryKernel<LessOp>);
HS_REGISTER_KERNEL("", "LessOrEqual", BinaryKernel<LessOrEqualOp>);
HS_REGISTER_KERNEL("", "And", BinaryKernel<AndOp>);
HS_REGISTER_KERNEL("", "Or", BinaryKernel<OrOp>);
HS_REGISTER_KERNEL("", "Xor", BinaryKernel<XorOp>);

}  // namespace
}  // namespace hs::cpu
