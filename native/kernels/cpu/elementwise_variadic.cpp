// Max, Min, Sum and Mean of one or more inputs with numpy broadcasting.
//
// Algorithm: the output shape is the broadcast of all inputs; the first two inputs are combined
// into the output with the binary broadcast plan (elementwise.h), then each further input is
// folded into the output in place (out = op(out, input_k)), and Mean scales by 1/count at the
// end. One input is passed through as a view. Max and Min propagate NaN, as numpy does.
#include <cmath>

#include "kernels/cpu/elementwise.h"

namespace hs::cpu {
namespace {

template <typename C> bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

struct MaxOp {
  static constexpr unsigned kTypes = kNumeric;
  static constexpr bool kMean = false;
  template <typename C> C operator()(C a, C b) const { return (a > b || is_nan(a)) ? a : b; }
};

struct MinOp {
  static constexpr unsigned kTypes = kNumeric;
  static constexpr bool kMean = false;
  template <typename C> C operator()(C a, C b) const { return (a < b || is_nan(a)) ? a : b; }
};

struct SumOp {
  static constexpr unsigned kTypes = kFloats;
  static constexpr bool kMean = false;
  template <typename C> C operator()(C a, C b) const { return a + b; }
};

struct MeanOp : SumOp {
  static constexpr bool kMean = true;
};

template <typename C>
struct ScaleOp {
  C operator()(C x) const { return x * factor; }
  C factor;
};

template <typename Op>
class VariadicKernel final : public KernelBase {
 public:
  explicit VariadicKernel(const KernelInfo& info) : name_(info.node.op_type) {}

  Status compute(KernelContext& ctx) const override {
    const int count = ctx.num_inputs();
    if (count < 1) HS_FAIL(kInvalidModel, name_, " needs at least one input");
    std::vector<const Tensor*> inputs(count);
    std::vector<const Shape*> shapes(count);
    for (int i = 0; i < count; ++i) {
      HS_RETURN_IF_ERROR(require_input(ctx, i, name_.c_str(), &inputs[i]));
      if (inputs[i]->dtype() != inputs[0]->dtype())
        HS_FAIL(kType, name_, ": input ", i, " has dtype ", dtype_name(inputs[i]->dtype()), ", input 0 has ",
                dtype_name(inputs[0]->dtype()));
      shapes[i] = &inputs[i]->shape();
    }
    const DType dtype = inputs[0]->dtype();
    Shape out_shape;
    HS_RETURN_IF_ERROR(broadcast_all(name_, shapes, &out_shape));
    return dispatch_only<Op::kTypes>(dtype, name_, [&](auto tag) -> Status {
      using T = decltype(tag);
      if (count == 1) {
        ctx.set_output(0, *inputs[0]);
        return Status::ok();
      }
      Tensor* out = ctx.output(0, dtype, out_shape);
      if (out->numel() == 0) return Status::ok();
      T* dst = out->data<T>();
      binary_map(ctx.pool(), plan_broadcast<2>(out_shape, {shapes[0], shapes[1]}), inputs[0]->data<T>(),
                 inputs[1]->data<T>(), dst, Op{}, kCheapGrain);
      for (int i = 2; i < count; ++i)
        binary_map(ctx.pool(), plan_broadcast<2>(out_shape, {&out_shape, shapes[i]}), dst, inputs[i]->data<T>(),
                   dst, Op{}, kCheapGrain);
      if constexpr (Op::kMean) {
        using C = ComputeType<T>;
        unary_map(ctx.pool(), dst, dst, out->numel(), ScaleOp<C>{C(1) / C(count)}, kCheapGrain);
      }
      return Status::ok();
    });
  }

 private:
  std::string name_;
};

HS_REGISTER_KERNEL("", "Max", VariadicKernel<MaxOp>);
HS_REGISTER_KERNEL("", "Min", VariadicKernel<MinOp>);
HS_REGISTER_KERNEL("", "Sum", VariadicKernel<SumOp>);
HS_REGISTER_KERNEL("", "Mean", VariadicKernel<MeanOp>);

}  // namespace
}  // namespace hs::cpu
