// Widening of float16 / bfloat16 graphs for the CUDA backend, whose kernels compute in float32
// (TensorRT's reading of an fp16 ONNX model without strict types: the types say where precision
// may drop, not where it must). Every half value of the graph becomes float32: half initializers
// and tensor attributes are converted, Cast / EyeLike / Random* targets of a half type become
// float32, half graph inputs are cast to float32 once on entry and half graph outputs back on exit,
// under their own names, so the engine's inputs and outputs keep the model's types. A Cast of a
// float input to a half type thereby computes nothing and becomes an Identity for
// remove_identities. The engine's own precision (fp16 / bf16 weights, tensor cores) then applies
// as for a float32 model.
//
// Left alone (returns 0): graphs with subgraphs or nodes of other domains, and graphs with a half
// graph input or output that is no plain tensor or an output whose type is unknown.
#include <algorithm>
#include <set>

#include "core/passes/graph_index.h"
#include "core/passes/passes.h"

namespace hs::passes {
namespace {

bool is_half(DType t) { return t == DType::kFloat16 || t == DType::kBFloat16; }

Tensor widened(const Tensor& t) {
  Tensor out = Tensor::empty(DType::kFloat32, t.shape());
  const std::vector<float> values = t.to_float_vector();
  std::copy(values.begin(), values.end(), out.data<float>());
  return out;
}

bool widenable(const Graph& graph) {
  for (const Node& node : graph.nodes) {
    if (!node.domain.empty() && node.domain != "ai.onnx") return false;
    for (const auto& [key, attr] : node.attrs) if (attr.kind == Attribute::Kind::kGraph) return false;
  }
  return true;
}

// The name of the attribute of `node` naming its output type, where its op has one.
const char* type_attr_name(const Node& node) {
  static const std::set<std::string> kDtypeOps = {"EyeLike", "RandomNormal", "RandomUniform", "RandomNormalLike",
                                                  "RandomUniformLike", "Bernoulli"};
  if (node.op_type == "Cast") return "to";
  return kDtypeOps.count(node.op_type) ? "dtype" : nullptr;
}

// The half type `node` makes from its attribute, if any.
bool makes_half(const Node& node) {
  const char* name = type_attr_name(node);
  const Attribute* type = name ? node.attr(name) : nullptr;
  return type && is_half((DType)type->i);
}

bool has_half_values(const Graph& graph) {
  for (const auto& [name, t] : graph.initializers) if (is_half(t.dtype())) return true;
  for (const ValueInfo& v : graph.inputs) if (is_half(v.dtype)) return true;
  for (const ValueInfo& v : graph.outputs) if (is_half(v.dtype)) return true;
  for (const Node& node : graph.nodes) {
    if (makes_half(node)) return true;
    for (const auto& [key, attr] : node.attrs) {
      if (attr.kind == Attribute::Kind::kTensor && is_half(attr.t.dtype())) return true;
      if (attr.kind == Attribute::Kind::kType && is_half(attr.type.dtype)) return true;
    }
  }
  return false;
}

Node cast_node(const std::string& name, const std::string& in, const std::string& out, DType to) {
  Node cast;
  cast.name = name;
  cast.op_type = "Cast";
  cast.inputs = {in};
  cast.outputs = {out};
  Attribute attr;
  attr.kind = Attribute::Kind::kInt;
  attr.i = (int64_t)to;
  cast.attrs["to"] = attr;
  return cast;
}

}  // namespace

int widen_half_floats(Graph& graph, PassContext& ctx) {
  if (!has_half_values(graph) || !widenable(graph)) return 0;
  std::set<std::string> input_names;
  for (const ValueInfo& v : graph.inputs) input_names.insert(v.name);
  // Half outputs produced inside the graph (a graph input passed through keeps its type).
  std::vector<std::pair<std::string, DType>> half_outputs;
  std::set<std::string> seen;
  for (const ValueInfo& v : graph.outputs) {
    DType t = v.dtype;
    if (t == DType::kUndefined) {
      auto it = ctx.types.find(v.name);
      if (it == ctx.types.end() || it->second.dtype == DType::kUndefined) return 0;
      t = it->second.dtype;
    }
    if (!is_half(t) || input_names.count(v.name)) continue;
    if (v.kind != ValueKind::kTensor) return 0;
    if (seen.insert(v.name).second) half_outputs.push_back({v.name, t});
  }
  for (const ValueInfo& v : graph.inputs)
    if (is_half(v.dtype) && v.kind != ValueKind::kTensor) return 0;

  GraphIndex index(graph);
  int changed = 0;
  // Types before widening, for the Casts that become identities.
  auto float_typed = [&](const std::string& value) {
    auto it = ctx.types.find(value);
    return it != ctx.types.end() && (is_half(it->second.dtype) || it->second.dtype == DType::kFloat32);
  };
  for (Node& node : graph.nodes) {
    if (makes_half(node)) {
      node.attrs[type_attr_name(node)].i = (int64_t)DType::kFloat32;
      if (node.op_type == "Cast" && !node.inputs.empty() && float_typed(node.inputs[0])) {
        node.op_type = "Identity";
        node.attrs.clear();
      }
      ++changed;
    }
    for (auto& [key, attr] : node.attrs) {
      if (attr.kind == Attribute::Kind::kTensor && is_half(attr.t.dtype())) attr.t = widened(attr.t), ++changed;
      if (attr.kind == Attribute::Kind::kType && is_half(attr.type.dtype)) attr.type.dtype = DType::kFloat32, ++changed;
    }
  }
  for (auto& [name, t] : graph.initializers)
    if (is_half(t.dtype()) && !input_names.count(name)) t = widened(t), ++changed;

  // Outputs: the value is renamed inside the graph and a final Cast writes the declared name.
  for (const auto& [name, dtype] : half_outputs) {
    const std::string inner = index.fresh_name(name + "/float32");
    for (Node& node : graph.nodes) {
      for (std::string& in : node.inputs) if (in == name) in = inner;
      for (std::string& out : node.outputs) if (out == name) out = inner;
    }
    auto init = graph.initializers.find(name);
    if (init != graph.initializers.end()) {
      graph.initializers[inner] = init->second;
      graph.initializers.erase(name);
    }
    graph.nodes.push_back(cast_node(index.fresh_name(name + "/to_half"), inner, name, dtype));
    ++changed;
  }
  // Inputs: read through a Cast placed first.
  std::vector<Node> entry;
  for (const ValueInfo& v : graph.inputs) {
    if (!is_half(v.dtype)) continue;
    const std::string inner = index.fresh_name(v.name + "/float32");
    for (Node& node : graph.nodes)
      for (std::string& in : node.inputs) if (in == v.name) in = inner;
    entry.push_back(cast_node(index.fresh_name(v.name + "/to_float32"), v.name, inner, DType::kFloat32));
    ++changed;
  }
  graph.nodes.insert(graph.nodes.begin(), entry.begin(), entry.end());
  if (changed > 0)
    ctx.report.notes.push_back("float16/bfloat16 values computed in float32 (the model's inputs and outputs keep "
                               "their types; precision 'fp16'/'bf16' sets the weights' type)");
  return changed;
}

}  // namespace hs::passes
