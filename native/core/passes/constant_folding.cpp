// Constant folding. A node is folded when it is deterministic, has no subgraph, and every input
// it reads is a constant (an initializer no graph input overrides): it is run once, alone, in a
// one-node graph through the same ExecutionPlan and CPU kernels as at run time, and its outputs
// become initializers. Shape and Size fold without running anything when shape inference knows
// the dimensions they read, which lets whole Shape->Gather->Unsqueeze->Concat->Reshape chains
// collapse on static shapes. A node whose kernel is missing or fails is left in place (it will
// report the same error at run time); so is one whose result would be much larger than its
// inputs (ConstantOfShape, Expand, Tile), which would only bloat the plan.
#include <algorithm>
#include <cstring>
#include <set>

#include "core/execution_plan.h"
#include "core/passes/graph_index.h"
#include "core/passes/passes.h"

namespace hs::passes {
namespace {

const std::set<std::string> kNondeterministic = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                 "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout"};
constexpr size_t kFreeGrowthBytes = 1 << 20;  // results up to this size fold whatever their inputs' size

// The most bytes a node's folded results may take. DequantizeLinear of quantised weights folds at
// any size (4x its input at most): else each run would dequantise them again, and the Conv and
// MatMul kernels could not pack them at build time.
size_t growth_limit(const Node& node, size_t input_bytes) {
  const size_t limit = std::max(input_bytes, kFreeGrowthBytes);
  return node.op_type == "DequantizeLinear" ? std::max(limit, 4 * input_bytes) : limit;
}

bool has_subgraph(const Node& node) {
  for (const auto& [key, attr] : node.attrs)
    if (attr.kind == Attribute::Kind::kGraph) return true;
  return false;
}

// Constant node attributes as a tensor; false for the forms we do not fold (sparse).
bool constant_value(const Node& node, Tensor* out) {
  auto from = [&](DType dtype, const void* data, int64_t count, Shape shape) {
    *out = Tensor::empty(dtype, shape);
    if (count) std::memcpy(out->raw(), data, (size_t)count * dtype_size(dtype));
    return true;
  };
  if (const Attribute* a = node.attr("value")) {
    if (a->kind != Attribute::Kind::kTensor || !a->t.defined()) return false;
    *out = a->t;
    return true;
  }
  if (const Attribute* a = node.attr("value_float")) return from(DType::kFloat32, &a->f, 1, {});
  if (const Attribute* a = node.attr("value_int")) return from(DType::kInt64, &a->i, 1, {});
  if (const Attribute* a = node.attr("value_floats"))
    return from(DType::kFloat32, a->floats.data(), (int64_t)a->floats.size(), {(int64_t)a->floats.size()});
  if (const Attribute* a = node.attr("value_ints"))
    return from(DType::kInt64, a->ints.data(), (int64_t)a->ints.size(), {(int64_t)a->ints.size()});
  if (const Attribute* a = node.attr("value_string")) {
    *out = Tensor::strings({}, {a->s});
    return true;
  }
  if (const Attribute* a = node.attr("value_strings")) {
    *out = Tensor::strings({(int64_t)a->strings.size()}, a->strings);
    return true;
  }
  return false;
}

// Shape / Size of a value whose dimensions (the ones read) are all fixed.
bool fold_shape(const Node& node, const TypeMap& types, std::vector<Tensor>* results) {
  auto it = node.inputs.empty() ? types.end() : types.find(node.inputs[0]);
  if (it == types.end() || !it->second.has_rank) return false;
  const std::vector<SymDim>& dims = it->second.dims;
  const int64_t rank = (int64_t)dims.size();
  int64_t begin = 0, end = rank;
  if (node.op_type == "Shape") {
    auto clamp = [&](int64_t v) { return std::min(std::max(v < 0 ? v + rank : v, (int64_t)0), rank); };
    begin = clamp(node.attr_int("start", 0));
    end = std::max(begin, clamp(node.attr_int("end", rank)));
  }
  std::vector<int64_t> values;
  int64_t size = 1;
  for (int64_t i = begin; i < end; ++i) {
    if (!dims[(size_t)i].is_fixed()) return false;
    values.push_back(dims[(size_t)i].value);
    size *= dims[(size_t)i].value;
  }
  if (node.op_type == "Size") values = {size};
  const Shape shape = node.op_type == "Size" ? Shape{} : Shape{(int64_t)values.size()};
  Tensor t = Tensor::empty(DType::kInt64, shape);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(int64_t));
  results->push_back(t);
  return true;
}

// Runs `node` alone on its constant inputs with the registered CPU kernel; false unless every
// result is a tensor (sequences and optionals cannot be initializers).
bool run_alone(const Node& node, const GraphIndex& index, const std::map<std::string, int64_t>& opsets,
               ThreadPool& pool, std::vector<Tensor>* results) {
  auto graph = std::make_shared<Graph>();
  graph->opsets = opsets;
  size_t input_bytes = 0;
  for (const std::string& in : node.inputs) {
    if (in.empty()) continue;
    const Tensor* t = index.constant(in);
    if (!t) return false;
    graph->initializers[in] = *t;
    input_bytes += t->nbytes();
  }
  for (const std::string& out : node.outputs)
    if (!out.empty()) graph->outputs.push_back(ValueInfo{out, DType::kUndefined, false, {}});
  graph->nodes.push_back(node);
  auto plan = ExecutionPlan::create(graph, opsets);
  if (!plan.is_ok()) return false;
  ExecutionContext context(plan.take(), &pool);
  std::vector<Value> values;
  if (!context.run({}, &values).is_ok()) return false;
  for (const Value& v : values) {
    if (!v.is_tensor()) return false;
    results->push_back(v.tensor());
  }
  size_t output_bytes = 0;
  for (const Tensor& t : *results) output_bytes += t.nbytes();
  return output_bytes <= growth_limit(node, input_bytes);
}

// Whether shape inference already knows the node's results would outgrow its inputs (checked
// before running it, so ConstantOfShape or Expand to a huge shape never allocates).
bool too_large(const Node& node, const GraphIndex& index, const TypeMap& types) {
  size_t input_bytes = 0, output_bytes = 0;
  for (const std::string& in : node.inputs)
    if (const Tensor* t = index.constant(in)) input_bytes += t->nbytes();
  for (const std::string& out : node.outputs) {
    auto it = types.find(out);
    if (it == types.end() || !it->second.is_static()) continue;
    double elements = 1;  // in double: a hostile shape must not overflow the estimate
    for (const SymDim& d : it->second.dims) elements *= (double)d.value;
    if (elements * (double)std::max<size_t>(dtype_size(it->second.dtype), 1) > (double)(1ull << 40)) return true;
    output_bytes += (size_t)elements * dtype_size(it->second.dtype);
  }
  return output_bytes > growth_limit(node, input_bytes);
}

bool foldable(const Node& node) {
  if (!node.domain.empty() && node.domain != "ai.onnx" && node.domain != "hs") return false;
  if (kNondeterministic.count(node.op_type) || has_subgraph(node)) return false;
  bool reads = false, writes = false;
  for (const std::string& in : node.inputs) reads = reads || !in.empty();
  for (const std::string& out : node.outputs) writes = writes || !out.empty();
  return reads && writes;
}

}  // namespace

int constants_to_initializers(Graph& graph) {
  GraphIndex index(graph);
  int converted = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (node.op_type != "Constant" || !(node.domain.empty() || node.domain == "ai.onnx")) continue;
    if (node.outputs.size() != 1 || node.outputs[0].empty() || graph.initializers.count(node.outputs[0])) continue;
    Tensor value;
    if (!constant_value(node, &value)) continue;
    graph.initializers[node.outputs[0]] = value;
    index.erase((int)i);
    ++converted;
  }
  index.apply();
  return converted;
}

int fold_constants(Graph& graph, PassContext& ctx) {
  GraphIndex index(graph);
  int folded = 0;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (!foldable(node)) continue;
    if (too_large(node, index, ctx.types)) continue;
    std::vector<Tensor> results;
    const bool shape_op = (node.op_type == "Shape" || node.op_type == "Size") && node.domain != "hs";
    if (!(shape_op && fold_shape(node, ctx.types, &results)) &&
        !run_alone(node, index, graph.opsets, ctx.pool, &results))
      continue;
    size_t r = 0;
    for (const std::string& out : node.outputs) {
      if (out.empty()) continue;
      if (r >= results.size()) break;
      graph.initializers[out] = results[r];
      ctx.types[out] = ValueType::of_tensor(results[r]);
      ++r;
    }
    index.erase((int)i);
    ++folded;
  }
  index.apply();
  return folded;
}

}  // namespace hs::passes
