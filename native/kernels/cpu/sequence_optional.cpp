// Sequence and optional constructors. SequenceConstruct makes a sequence of its input tensors
// (all of one dtype); Optional wraps its input (a tensor or a sequence) or, with no input, is an
// empty optional of the kind its `type` attribute names. Both only share the input tensors.
#include "kernels/cpu/common.h"

namespace hs::cpu {
namespace {

class SequenceConstructKernel final : public KernelBase {
 public:
  explicit SequenceConstructKernel(const KernelInfo&) {}
  bool takes_strings() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    std::vector<Tensor> items;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t;
      HS_RETURN_IF_ERROR(require_input(ctx, i, "SequenceConstruct", &t));
      if (!items.empty() && t->dtype() != items[0].dtype())
        HS_FAIL(kType, "SequenceConstruct: input ", i, " is ", dtype_name(t->dtype()), ", input 0 ",
                dtype_name(items[0].dtype()), "; a sequence holds one dtype");
      items.push_back(*t);
    }
    if (items.empty()) HS_FAIL(kInvalidModel, "SequenceConstruct needs at least one input");
    ctx.set_output_value(0, Value::sequence(std::move(items)));
    return Status::ok();
  }
};

class OptionalKernel final : public KernelBase {
 public:
  explicit OptionalKernel(const KernelInfo& info) {
    const Attribute* type = info.node.attr("type");
    const bool has_input = !info.node.inputs.empty() && !info.node.inputs[0].empty();
    if (type && type->kind != Attribute::Kind::kType) {
      init_status = Status(StatusCode::kInvalidModel, "Optional: attribute 'type' must be a type");
    } else if (!has_input && !type) {
      init_status = Status(StatusCode::kInvalidModel, "Optional with no input needs the attribute 'type'");
    } else if (type && is_optional(type->type.kind)) {
      init_status = Status(StatusCode::kUnsupportedOp, "Optional: an optional of an optional is not supported");
    }
    empty_kind_ = type && type->type.kind == ValueKind::kSequence ? ValueKind::kOptionalSequence : ValueKind::kOptionalTensor;
  }
  bool takes_strings() const override { return true; }
  bool takes_containers() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    const Value* x = ctx.input_value(0);
    if (!x) {
      ctx.set_output_value(0, Value::empty_optional(empty_kind_));
      return Status::ok();
    }
    if (is_optional(x->kind())) HS_FAIL(kType, "Optional: input 0 is already an optional");
    ctx.set_output_value(0, Value::optional(*x));
    return Status::ok();
  }

 private:
  ValueKind empty_kind_;
};

HS_REGISTER_KERNEL("", "SequenceConstruct", SequenceConstructKernel);
HS_REGISTER_KERNEL("", "Optional", OptionalKernel);

}  // namespace
}  // namespace hs::cpu
