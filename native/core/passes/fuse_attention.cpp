// Scaled dot-product attention into hs:Attention:
//   MatMul(Q, Kt) [-> Mul | Div by a constant scalar] [-> Add mask] -> Softmax(last axis) -> MatMul(., V)
// becomes Attention(Q, K, V, mask) with scale = the constant (its inverse for Div; 1 without).
// When Kt is written by a Transpose that only swaps K's last two axes, the Transpose goes and
// the kernel reads K directly (k_transposed = 0); otherwise it reads Kt (k_transposed = 1).
// The kernel broadcasts the leading dimensions of Q, K, V and the mask (and the mask's last two
// against [Sq, Sk]) exactly as the MatMul / Add / MatMul chain does, so no shape needs proving
// beyond the ranks (>= 2: MatMul treats 1-D operands differently) and the Softmax axis.
#include <algorithm>

#include "core/passes/activation_match.h"
#include "core/passes/passes.h"
#include "hs/kernel.h"

namespace hs::passes {
namespace {

struct AttentionMatch {
  std::vector<int> group;
  std::string q, k, v, mask, output;
  float scale = 1.f;
  bool k_transposed = true;
};

const ValueType* ranked_float32(const PassContext& ctx, const std::string& name) {
  auto it = ctx.types.find(name);
  if (it == ctx.types.end() || !it->second.has_rank || it->second.rank() < 2 || it->second.dtype != DType::kFloat32)
    return nullptr;
  return &it->second;
}

// Softmax over the last axis of its input (either opset semantics agree there).
bool last_axis_softmax(const GraphIndex& index, const PassContext& ctx, const Node& softmax) {
  if (softmax.inputs.size() != 1) return false;
  const int64_t axis = softmax.attr_int("axis", index.opset() >= 13 ? -1 : 1);
  if (axis == -1) return true;
  auto it = ctx.types.find(softmax.inputs[0]);
  return it != ctx.types.end() && it->second.has_rank && axis == it->second.rank() - 1;
}

// The node writing `value` when it is the op and `value` is read only by `reader`.
int producer_op(const GraphIndex& index, const std::string& value, const char* op, int reader) {
  const int p = index.producer(value);
  return p >= 0 && is_onnx_op(index.node(p), op) && index.sole_reader(value) == reader ? p : -1;
}

// Walks back from `scores` (read by `reader`) through an optional scale to the Q @ Kt MatMul.
int match_scaled_product(const GraphIndex& index, std::string scores, int reader, AttentionMatch* m) {
  const int p = index.producer(scores);
  if (p < 0 || index.sole_reader(scores) != reader) return -1;
  const Node& n = index.node(p);
  float c;
  if (is_onnx_op(n, "Mul") && n.inputs.size() == 2) {
    const int k = index.scalar_constant(n.inputs[1], &c) ? 0 : index.scalar_constant(n.inputs[0], &c) ? 1 : -1;
    if (k < 0) return -1;
    m->scale = c;
    m->group.push_back(p);
    return producer_op(index, n.inputs[(size_t)k], "MatMul", p);
  }
  if (is_onnx_op(n, "Div") && n.inputs.size() == 2 && index.scalar_constant(n.inputs[1], &c) && c != 0.f) {
    m->scale = 1.f / c;
    m->group.push_back(p);
    return producer_op(index, n.inputs[0], "MatMul", p);
  }
  return is_onnx_op(n, "MatMul") ? p : -1;
}

bool match_attention(const GraphIndex& index, const PassContext& ctx, int i, AttentionMatch* m) {
  const Node& out = index.node(i);
  if (!is_onnx_op(out, "MatMul") || out.inputs.size() != 2) return false;
  const int softmax = producer_op(index, out.inputs[0], "Softmax", i);
  if (softmax < 0 || !last_axis_softmax(index, ctx, index.node(softmax))) return false;
  m->group = {softmax, i};
  const std::string& scores = index.node(softmax).inputs[0];
  int product = -1;
  const int add = producer_op(index, scores, "Add", softmax);
  if (add >= 0 && index.node(add).inputs.size() == 2 && index.node(add).inputs[0] != index.node(add).inputs[1]) {
    m->group.push_back(add);
    for (int k = 0; k < 2 && product < 0; ++k) {
      AttentionMatch attempt = *m;
      product = match_scaled_product(index, index.node(add).inputs[(size_t)k], add, &attempt);
      if (product >= 0) {
        *m = attempt;
        m->mask = index.node(add).inputs[(size_t)(1 - k)];
      }
    }
  } else {
    product = match_scaled_product(index, scores, softmax, m);
  }
  if (product < 0 || index.node(product).inputs.size() != 2) return false;
  m->group.push_back(product);
  m->q = index.node(product).inputs[0];
  m->k = index.node(product).inputs[1];
  m->v = out.inputs[1];
  m->output = out.outputs[0];
  const ValueType* kt = ranked_float32(ctx, m->k);
  if (!ranked_float32(ctx, m->q) || !kt || !ranked_float32(ctx, m->v)) return false;
  const int transpose = producer_op(index, m->k, "Transpose", product);
  if (transpose >= 0) {  // perm with its last two entries swapped back must be the identity
    std::vector<int64_t> perm = index.node(transpose).attr_ints("perm");
    if (perm.empty())
      for (int64_t d = kt->rank() - 1; d >= 0; --d) perm.push_back(d);
    bool swaps_last_two = perm.size() >= 2;
    if (swaps_last_two) std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    for (size_t d = 0; d < perm.size() && swaps_last_two; ++d) swaps_last_two = perm[d] == (int64_t)d;
    if (swaps_last_two && index.node(transpose).inputs.size() == 1) {
      m->group.push_back(transpose);
      m->k = index.node(transpose).inputs[0];
      m->k_transposed = false;
    }
  }
  return true;
}

}  // namespace

int fuse_attention(Graph& graph, PassContext& ctx) {
  if (!find_kernel("hs", "Attention")) return 0;
  GraphIndex index(graph);
  int fused = 0;
  for (int i = 0; i < (int)graph.nodes.size(); ++i) {
    AttentionMatch m;
    if (index.erased(i) || !match_attention(index, ctx, i, &m)) continue;
    Node node;
    node.name = index.node(i).name;
    node.op_type = "Attention";
    node.domain = "hs";
    node.inputs = {m.q, m.k, m.v};
    if (!m.mask.empty()) node.inputs.push_back(m.mask);
    node.outputs = {m.output};
    Attribute scale, k_transposed;
    scale.kind = Attribute::Kind::kFloat;
    scale.f = m.scale;
    k_transposed.kind = Attribute::Kind::kInt;
    k_transposed.i = m.k_transposed ? 1 : 0;
    node.attrs["scale"] = scale;
    node.attrs["k_transposed"] = k_transposed;
    std::sort(m.group.begin(), m.group.end());
    std::string label;
    for (int g : m.group) label += (label.empty() ? "" : "+") + node_label(index.node(g));
    ctx.report.fusions.push_back("Attention(" + label + ")");
    index.replace(m.group, std::move(node));
    ++fused;
  }
  index.apply();
  return fused;
}

}  // namespace hs::passes
