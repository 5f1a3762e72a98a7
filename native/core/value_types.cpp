#include "core/value_types.h"

#include <set>

namespace hs {
namespace {

// Views whose output is their input 0 with another shape: strings and all.
const std::set<std::string> kSameTypeAsInput = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"};

const StaticType* input_type(const Node& node, size_t i, const StaticTypes& types) {
  if (i >= node.inputs.size() || node.inputs[i].empty()) return nullptr;
  auto it = types.find(node.inputs[i]);
  return it == types.end() ? nullptr : &it->second;
}

void set_output(const Node& node, size_t i, StaticType t, StaticTypes& types) {
  if (i < node.outputs.size() && !node.outputs[i].empty()) types[node.outputs[i]] = t;
}

StaticType declared(const ValueInfo& v) { return StaticType{v.kind, v.dtype}; }

}  // namespace

void infer_output_types(const Node& node, StaticTypes& types) {
  for (const std::string& out : node.outputs) types.erase(out);
  if (!node.domain.empty() && node.domain != "ai.onnx") return;
  const std::string& op = node.op_type;
  const StaticType* x = input_type(node, 0, types);
  if (op == "Cast") {
    DType to = DType::kUndefined;
    if (dtype_from_onnx((int32_t)node.attr_int("to", 0), &to)) set_output(node, 0, {ValueKind::kTensor, to}, types);
  } else if (op == "CastLike") {
    if (const StaticType* like = input_type(node, 1, types)) set_output(node, 0, {ValueKind::kTensor, like->dtype}, types);
  } else if (op == "Constant") {
    const Attribute* value = node.attr("value");
    if (value && value->kind == Attribute::Kind::kTensor) set_output(node, 0, {ValueKind::kTensor, value->t.dtype()}, types);
    if (node.attr("value_string") || node.attr("value_strings"))
      set_output(node, 0, {ValueKind::kTensor, DType::kString}, types);
  } else if (kSameTypeAsInput.count(op)) {
    if (x) set_output(node, 0, *x, types);
  } else if (op == "SequenceConstruct") {
    set_output(node, 0, {ValueKind::kSequence, x ? x->dtype : DType::kUndefined}, types);
  } else if (op == "Optional") {
    const Attribute* type = node.attr("type");
    if (x) set_output(node, 0, {x->kind == ValueKind::kSequence ? ValueKind::kOptionalSequence : ValueKind::kOptionalTensor, x->dtype}, types);
    else if (type && type->kind == Attribute::Kind::kType)
      set_output(node, 0, {type->type.kind == ValueKind::kSequence ? ValueKind::kOptionalSequence : ValueKind::kOptionalTensor,
                           type->type.dtype}, types);
  } else if (op == "SequenceEmpty") {
    DType dtype = DType::kFloat32;
    if (!dtype_from_onnx((int32_t)node.attr_int("dtype", 1), &dtype)) dtype = DType::kUndefined;
    set_output(node, 0, {ValueKind::kSequence, dtype}, types);
  } else if (op == "SequenceInsert" || op == "SequenceErase" || op == "SplitToSequence") {
    set_output(node, 0, {ValueKind::kSequence, x ? x->dtype : DType::kUndefined}, types);
  } else if (op == "SequenceAt" || op == "ConcatFromSequence") {
    set_output(node, 0, {ValueKind::kTensor, x ? x->dtype : DType::kUndefined}, types);
  } else if (op == "SequenceLength") {
    set_output(node, 0, {ValueKind::kTensor, DType::kInt64}, types);
  } else if (op == "OptionalHasElement") {
    set_output(node, 0, {ValueKind::kTensor, DType::kBool}, types);
  } else if (op == "OptionalGetElement") {
    if (x) set_output(node, 0, {x->kind == ValueKind::kOptionalSequence || x->kind == ValueKind::kSequence ? ValueKind::kSequence : ValueKind::kTensor, x->dtype}, types);
  } else if (op == "SequenceMap") {
    for (size_t i = 0; i < node.outputs.size(); ++i) set_output(node, i, {ValueKind::kSequence, DType::kUndefined}, types);
  } else if (op == "If") {
    const Attribute* branch = node.attr("then_branch");
    if (!branch || branch->kind != Attribute::Kind::kGraph || !branch->g) return;
    for (size_t i = 0; i < branch->g->outputs.size(); ++i) set_output(node, i, declared(branch->g->outputs[i]), types);
  }
}

Status check_kernel_takes(const Node& node, const OpKernel& kernel, size_t index, ValueKind kind, DType dtype) {
  const bool container = kind != ValueKind::kTensor;
  if (container ? kernel.takes_containers() : dtype != DType::kString || kernel.takes_strings()) return Status::ok();
  return Status(StatusCode::kType,
                str_cat(node.op_type, " input ", index, " ('", index < node.inputs.size() ? node.inputs[index] : "", "') is a ",
                        container ? value_kind_name(kind) : "string tensor",
                        container ? "; this operator takes tensors only" : "; this operator does not take strings"));
}

Status check_input_types(const Node& node, const OpKernel& kernel, const StaticTypes& types) {
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (const StaticType* t = input_type(node, i, types))
      HS_RETURN_IF_ERROR(check_kernel_takes(node, kernel, i, t->kind, t->dtype));
  return Status::ok();
}

}  // namespace hs
