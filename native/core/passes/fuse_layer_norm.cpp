// Decomposed layer normalisation into the standard LayerNormalization(axis = -1):
//   m = ReduceMean(x), d = x - m, v = ReduceMean(Pow(d, 2) | d * d), s = Sqrt(v + eps),
//   n = d / s | d * Reciprocal(s), y = n * gamma + beta        (gamma and beta optional)
// with both ReduceMeans over the last axis only, keepdims = 1, eps a constant scalar, and gamma /
// beta constants whose shape is [1] or [D] up to leading 1s (D = x's last dimension, which must
// be known unless both are scalars), so the Mul / Add broadcast nothing. Every intermediate
// value is read only inside the group (d by exactly the square and the normalisation).
#include "core/passes/activation_match.h"
#include "core/passes/passes.h"
#include "hs/kernel.h"

namespace hs::passes {
namespace {

struct LayerNormMatch {
  std::vector<int> group;
  std::string x, output;
  float epsilon = 0;
  std::string gamma, beta;  // "" when absent
};

// A ReduceMean over only the last axis of its input, keeping dimensions.
bool last_axis_mean(const GraphIndex& index, const PassContext& ctx, int i) {
  if (i < 0) return false;
  const Node& n = index.node(i);
  if (!is_onnx_op(n, "ReduceMean") || n.inputs.empty() || n.attr_int("keepdims", 1) != 1) return false;
  std::vector<int64_t> axes;
  if (index.opset() < 18) {
    if (n.inputs.size() != 1) return false;
    axes = n.attr_ints("axes");
  } else {
    const Tensor* t = n.inputs.size() == 2 ? index.constant(n.inputs[1]) : nullptr;
    if (!t || is_float(t->dtype())) return false;
    axes = t->to_int64_vector();
  }
  if (axes.size() != 1) return false;
  if (axes[0] == -1) return true;
  auto it = ctx.types.find(n.inputs[0]);
  return it != ctx.types.end() && it->second.has_rank && axes[0] == it->second.rank() - 1;
}

// The node among `d`'s two readers that squares it, and the other one.
bool split_readers(const GraphIndex& index, const std::string& d, int* square, int* other) {
  const std::vector<int>& readers = index.readers(d);
  if (readers.size() != 2 || index.is_graph_output(d)) return false;
  for (int k = 0; k < 2; ++k) {
    const Node& n = index.node(readers[k]);
    float exponent;
    const bool pow2 = is_onnx_op(n, "Pow") && n.inputs.size() == 2 && n.inputs[0] == d &&
                      index.scalar_constant(n.inputs[1], &exponent) && exponent == 2.f;
    const bool self_mul = is_onnx_op(n, "Mul") && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] == d;
    if (pow2 || self_mul) {
      *square = readers[k];
      *other = readers[1 - k];
      return true;
    }
  }
  return false;
}

// The constant of the scale / shift node `i` applied to `value`, when its shape broadcasts nothing.
std::string layer_param(const GraphIndex& index, const PassContext& ctx, int i, const char* op, const std::string& value,
                        const std::string& x) {
  if (i < 0 || !is_onnx_op(index.node(i), op)) return {};
  const std::string name = other_input(index.node(i), value);
  const Tensor* t = index.constant(name);
  if (!t || !is_float(t->dtype())) return {};
  auto xt = ctx.types.find(x);
  const int64_t rank = xt == ctx.types.end() ? -1 : xt->second.rank();
  const int64_t last = rank > 0 ? xt->second.dims.back().value : -1;
  if (t->rank() > (rank >= 0 ? rank : 1)) return {};
  for (int64_t k = 0; k + 1 < t->rank(); ++k) if (t->dim(k) != 1) return {};
  if (t->numel() != 1 && (last < 0 || t->numel() != last)) return {};
  return name;
}

bool match_layer_norm(const GraphIndex& index, const PassContext& ctx, int i, LayerNormMatch* m) {
  if (!last_axis_mean(index, ctx, i)) return false;
  const Node& mean = index.node(i);
  const int sub = index.sole_reader(mean.outputs[0]);
  if (sub < 0 || !is_onnx_op(index.node(sub), "Sub") || index.node(sub).inputs.size() != 2 ||
      index.node(sub).inputs[0] != mean.inputs[0] || index.node(sub).inputs[1] != mean.outputs[0])
    return false;
  const std::string& d = index.node(sub).outputs[0];
  int square, normalize;
  if (!split_readers(index, d, &square, &normalize)) return false;
  const int variance = index.sole_reader(index.node(square).outputs[0]);
  if (!last_axis_mean(index, ctx, variance) || index.node(variance).inputs[0] != index.node(square).outputs[0]) return false;
  const int add_eps = index.sole_reader(index.node(variance).outputs[0]);
  if (add_eps < 0 || !is_onnx_op(index.node(add_eps), "Add") ||
      !index.scalar_constant(other_input(index.node(add_eps), index.node(variance).outputs[0]), &m->epsilon))
    return false;
  const int sqrt = index.sole_reader(index.node(add_eps).outputs[0]);
  if (sqrt < 0 || !is_onnx_op(index.node(sqrt), "Sqrt")) return false;
  const std::string& std_dev = index.node(sqrt).outputs[0];
  const int after_sqrt = index.sole_reader(std_dev);
  m->group = {i, sub, square, variance, add_eps, sqrt};
  if (after_sqrt == normalize) {  // d / s
    const Node& div = index.node(normalize);
    if (!is_onnx_op(div, "Div") || div.inputs.size() != 2 || div.inputs[0] != d || div.inputs[1] != std_dev) return false;
  } else {  // d * (1 / s)
    if (after_sqrt < 0 || !is_onnx_op(index.node(after_sqrt), "Reciprocal")) return false;
    const std::string& inverse = index.node(after_sqrt).outputs[0];
    const Node& mul = index.node(normalize);
    if (index.sole_reader(inverse) != normalize || !is_onnx_op(mul, "Mul") || other_input(mul, d) != inverse) return false;
    m->group.push_back(after_sqrt);
  }
  m->group.push_back(normalize);
  m->x = mean.inputs[0];
  m->output = index.node(normalize).outputs[0];
  int next = index.sole_reader(m->output);
  m->gamma = layer_param(index, ctx, next, "Mul", m->output, m->x);
  if (!m->gamma.empty()) {
    m->group.push_back(next);
    m->output = index.node(next).outputs[0];
    next = index.sole_reader(m->output);
  }
  m->beta = layer_param(index, ctx, next, "Add", m->output, m->x);
  if (!m->beta.empty()) {
    m->group.push_back(next);
    m->output = index.node(next).outputs[0];
  }
  auto xt = ctx.types.find(m->x);
  return xt != ctx.types.end() && is_float(xt->second.dtype);
}

// A 1-D constant for LayerNormalization's Scale / B input (a reshaped view when needed).
std::string as_vector(GraphIndex& index, const std::string& name) {
  const Tensor& t = index.graph().initializers[name];
  if (t.rank() == 1) return name;
  const std::string vector_name = index.fresh_name(name + "_1d");
  index.graph().initializers[vector_name] = t.reshaped({t.numel()});
  return vector_name;
}

}  // namespace

int fuse_layer_norm(Graph& graph, PassContext& ctx) {
  if (!find_kernel("", "LayerNormalization")) return 0;
  GraphIndex index(graph);
  int fused = 0;
  for (int i = 0; i < (int)graph.nodes.size(); ++i) {
    LayerNormMatch m;
    if (index.erased(i) || !match_layer_norm(index, ctx, i, &m)) continue;
    std::string gamma = m.gamma.empty() ? "" : as_vector(index, m.gamma);
    if (gamma.empty()) {  // LayerNormalization needs a Scale: ones over the last dimension
      const ValueType& xt = ctx.types[m.x];
      if (!xt.has_rank || xt.dims.empty() || !xt.dims.back().is_fixed()) continue;
      Tensor ones = Tensor::empty(DType::kFloat32, {xt.dims.back().value});
      for (int64_t k = 0; k < ones.numel(); ++k) ones.data<float>()[k] = 1.f;
      gamma = index.fresh_name(m.x + "_ln_scale");
      graph.initializers[gamma] = ones;
    }
    Node node;
    node.name = index.node(i).name;
    node.op_type = "LayerNormalization";
    node.inputs = {m.x, gamma};
    if (!m.beta.empty()) node.inputs.push_back(as_vector(index, m.beta));
    node.outputs = {m.output};
    Attribute axis, epsilon;
    axis.kind = Attribute::Kind::kInt;
    axis.i = -1;
    epsilon.kind = Attribute::Kind::kFloat;
    epsilon.f = m.epsilon;
    node.attrs["axis"] = axis;
    node.attrs["epsilon"] = epsilon;
    std::string label;
    for (int g : m.group) label += (label.empty() ? "" : "+") + node_label(index.node(g));
    ctx.report.fusions.push_back("LayerNormalization(" + label + ")");
    index.replace(m.group, std::move(node));
    ++fused;
  }
  index.apply();
  return fused;
}

}  // namespace hs::passes
