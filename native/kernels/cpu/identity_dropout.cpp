// Identity, and Dropout at inference: the output is the input itself (a view, no copy; Identity
// also forwards strings, sequences and optionals), and
// Dropout's optional mask is all true (bool from opset 10, the input's dtype with value 1 before).
// Training-mode Dropout (the training_mode input set to true, opset 12+) is ERR_UNSUPPORTED_OP
// unless its ratio is 0 (then it drops nothing either): refused at load when the inputs are
// constants, else at run time.
#include <cstring>

#include "kernels/cpu/dropout.h"
#include "kernels/cpu/elementwise.h"

namespace hs::cpu {

Status check_drops_nothing(const Tensor* ratio, const Tensor* training_mode) {
  if (!training_mode) return Status::ok();
  if (training_mode->dtype() != DType::kBool)
    HS_FAIL(kType, "Dropout: training_mode must be bool, got ", dtype_name(training_mode->dtype()));
  if (training_mode->numel() != 1)
    HS_FAIL(kShape, "Dropout: training_mode must be a scalar, got shape ", shape_str(training_mode->shape()));
  if (training_mode->data<uint8_t>()[0] == 0) return Status::ok();
  float ratio_value = 0.5f;
  if (ratio) {
    if (!is_float(ratio->dtype())) HS_FAIL(kType, "Dropout: ratio must be a float type, got ", dtype_name(ratio->dtype()));
    if (ratio->numel() != 1) HS_FAIL(kShape, "Dropout: ratio must be a scalar, got shape ", shape_str(ratio->shape()));
    ratio_value = ratio->to_float_vector()[0];
  }
  if (ratio_value != 0.f)
    HS_FAIL(kUnsupportedOp, "Dropout: training_mode=true with ratio ", ratio_value, " is not supported (inference only)");
  return Status::ok();
}

namespace {

// Identity forwards a value of any kind: a tensor (strings too), a sequence or an optional.
class IdentityKernel final : public KernelBase {
 public:
  explicit IdentityKernel(const KernelInfo&) {}
  bool takes_strings() const override { return true; }
  bool takes_containers() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    const Value* x = ctx.input_value(0);
    if (!x) HS_FAIL(kInvalidModel, "Identity needs input 0");
    ctx.set_output_value(0, *x);
    return Status::ok();
  }
};

class DropoutKernel final : public KernelBase {
 public:
  explicit DropoutKernel(const KernelInfo& info) : bool_mask_(info.opset >= 10), mode_inputs_(info.opset >= 12) {
    // Decided at load when both inputs are constants or absent.
    const bool has_ratio = info.node.inputs.size() > 1 && !info.node.inputs[1].empty();
    const Tensor* ratio = mode_inputs_ ? info.constant_input(1) : nullptr;
    const Tensor* training_mode = mode_inputs_ ? info.constant_input(2) : nullptr;
    if (training_mode && (ratio || !has_ratio)) init_status = check_drops_nothing(ratio, training_mode);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Dropout", &x));
    if (mode_inputs_) HS_RETURN_IF_ERROR(check_drops_nothing(ctx.input(1), ctx.input(2)));
    if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
      if (bool_mask_) {
        Tensor* mask = ctx.output(1, DType::kBool, x->shape());
        std::memset(mask->raw(), 1, mask->nbytes());
      } else {
        HS_RETURN_IF_ERROR(dispatch_only<kFloats>(x->dtype(), "Dropout", [&](auto tag) -> Status {
          using T = decltype(tag);
          Tensor* mask = ctx.output(1, x->dtype(), x->shape());
          const T one = store_as<T>(1.f);
          T* m = mask->data<T>();
          for (int64_t i = 0; i < mask->numel(); ++i) m[i] = one;
          return Status::ok();
        }));
      }
    }
    ctx.set_output(0, *x);
    return Status::ok();
  }

 private:
  bool bool_mask_;
  bool mode_inputs_;  // opset 12+: ratio and training_mode are inputs
};

HS_REGISTER_KERNEL("", "Identity", IdentityKernel);
HS_REGISTER_KERNEL("", "Dropout", DropoutKernel);

}  // namespace
}  // namespace hs::cpu
