// MatMul [-> Add bias] [-> activation] into hs:FusedMatMul, Y = act(A @ B + bias), and
// Gemm -> activation into hs:FusedGemm.
//
// The bias must be a constant 1-D float tensor of length N where N is provably the last
// dimension of the product (so the Add broadcasts along rows only and changes no shape); the
// product must be known to be float (hs:FusedMatMul has no integer path). Intermediate values
// must be read only by the next node of the group.
#include "core/passes/activation_match.h"
#include "core/passes/passes.h"
#include "hs/kernel.h"

namespace hs::passes {
namespace {

// The constant row bias `add` adds to `value`, or "".
std::string row_bias(const GraphIndex& index, const PassContext& ctx, const Node& add, const std::string& value) {
  const std::string bias = other_input(add, value);
  const Tensor* t = index.constant(bias);
  auto vt = ctx.types.find(value);
  if (!t || t->rank() != 1 || !is_float(t->dtype()) || vt == ctx.types.end() || !vt->second.has_rank ||
      vt->second.dims.empty() || vt->second.dims.back().value != t->dim(0))
    return {};
  return bias;
}

bool known_float(const PassContext& ctx, const std::string& value) {
  auto it = ctx.types.find(value);
  return it != ctx.types.end() && is_float(it->second.dtype);
}

void report(PassContext& ctx, const GraphIndex& index, const char* op, const std::vector<int>& group) {
  std::string label;
  for (int g : group) label += (label.empty() ? "" : "+") + node_label(index.node(g));
  ctx.report.fusions.push_back(std::string(op) + "(" + label + ")");
}

}  // namespace

int fuse_matmul(Graph& graph, PassContext& ctx) {
  const bool matmul_kernel = find_kernel("hs", "FusedMatMul") != nullptr;
  const bool gemm_kernel = find_kernel("hs", "FusedGemm") != nullptr;
  GraphIndex index(graph);
  int fused = 0;
  for (int i = 0; i < (int)graph.nodes.size(); ++i) {
    const Node& anchor = index.node(i);
    const bool matmul = matmul_kernel && is_onnx_op(anchor, "MatMul") && anchor.inputs.size() == 2;
    const bool gemm = gemm_kernel && is_onnx_op(anchor, "Gemm");
    if (index.erased(i) || !(matmul || gemm)) continue;
    std::vector<int> group = {i};
    std::string value = anchor.outputs[0];
    std::string bias;
    if (matmul) {
      const int next = index.sole_reader(value);
      if (next >= 0 && is_onnx_op(index.node(next), "Add")) bias = row_bias(index, ctx, index.node(next), value);
      if (!bias.empty()) {
        group.push_back(next);
        value = index.node(next).outputs[0];
      }
      if (!known_float(ctx, value)) continue;
    }
    ActivationMatch act;
    const bool has_act = match_activation(index, value, true, &act);
    if (group.size() == 1 && !has_act) continue;

    Node node;
    node.name = anchor.name;
    node.op_type = matmul ? "FusedMatMul" : "FusedGemm";
    node.domain = "hs";
    node.attrs = anchor.attrs;
    node.inputs = anchor.inputs;
    if (!bias.empty()) node.inputs.push_back(bias);
    if (has_act) {
      set_activation_attrs(act, &node);
      group.insert(group.end(), act.nodes.begin(), act.nodes.end());
      value = act.output;
    }
    node.outputs = {value};
    report(ctx, index, node.op_type.c_str(), group);
    index.replace(group, std::move(node));
    ++fused;
  }
  index.apply();
  return fused;
}

}  // namespace hs::passes
