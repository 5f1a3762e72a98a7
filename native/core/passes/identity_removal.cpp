// Removal of Identity and of Dropout in inference mode (ratio ignored; no training_mode input, or
// a constant false one; its mask output unused). Readers of the removed node's output read its
// input instead. When that output is a graph output, the graph keeps its name: the node producing
// the input is renamed to write it directly, provided that input is no graph input, initializer,
// outer value or graph output itself. Values that a subgraph reads by name are never renamed.
#include <map>

#include "core/passes/graph_index.h"
#include "core/passes/passes.h"

namespace hs::passes {
namespace {

bool is_pass_through(const Node& node, const GraphIndex& index) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return false;
  if (node.inputs.empty() || node.inputs[0].empty() || node.outputs.empty() || node.outputs[0].empty()) return false;
  if (node.op_type == "Identity") return node.outputs.size() == 1;
  if (node.op_type != "Dropout") return false;
  if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
    const Tensor* training = index.constant(node.inputs[2]);
    if (!training || training->numel() != 1 || training->to_int64_vector()[0] != 0) return false;
  }
  for (size_t i = 1; i < node.outputs.size(); ++i) {
    const std::string& mask = node.outputs[i];
    if (!mask.empty() && (!index.readers(mask).empty() || index.is_graph_output(mask))) return false;
  }
  return true;
}

// Removes the pass-through nodes whose output is no graph output, in one sweep.
int remove_inner(Graph& graph) {
  GraphIndex index(graph);
  std::map<std::string, std::string> alias;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (!is_pass_through(node, index)) continue;
    const std::string& out = node.outputs[0];
    if (index.is_graph_output(out) || index.read_by_subgraph(out)) continue;
    alias[out] = node.inputs[0];
    index.erase((int)i);
  }
  if (alias.empty()) return 0;
  auto resolve = [&](std::string name) {
    for (auto it = alias.find(name); it != alias.end(); it = alias.find(name)) name = it->second;
    return name;
  };
  for (Node& node : graph.nodes)
    for (std::string& in : node.inputs) if (!in.empty()) in = resolve(in);
  index.apply();
  return (int)alias.size();
}

// Removes one pass-through node that writes a graph output, if one can go; returns whether it did.
bool remove_one_at_output(Graph& graph) {
  GraphIndex index(graph);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    if (!is_pass_through(node, index)) continue;
    const std::string out = node.outputs[0], in = node.inputs[0];
    if (!index.is_graph_output(out) || index.read_by_subgraph(out) || index.read_by_subgraph(in)) continue;
    const int producer = index.producer(in);
    if (producer < 0 || index.is_graph_output(in)) continue;
    for (std::string& o : graph.nodes[(size_t)producer].outputs) if (o == in) o = out;
    rename_reads(graph, in, out);
    index.erase((int)i);
    index.apply();
    return true;
  }
  return false;
}

}  // namespace

int remove_identities(Graph& graph) {
  int removed = remove_inner(graph);
  while (remove_one_at_output(graph)) ++removed;
  return removed;
}

}  // namespace hs::passes
