#include "core/passes/graph_index.h"

#include <algorithm>

namespace hs::passes {

bool is_onnx_op(const Node& node, const char* op) {
  return node.op_type == op && (node.domain.empty() || node.domain == "ai.onnx") && node.outputs.size() == 1 &&
         !node.outputs[0].empty();
}

std::string other_input(const Node& node, const std::string& known) {
  if (node.inputs.size() != 2) return {};
  if (node.inputs[0] == known && node.inputs[1] != known) return node.inputs[1];
  if (node.inputs[1] == known && node.inputs[0] != known) return node.inputs[0];
  return {};
}

void outer_reads(const Graph& subgraph, std::set<std::string>* out) {
  std::set<std::string> defined;
  for (const ValueInfo& in : subgraph.inputs) defined.insert(in.name);
  for (const auto& [name, tensor] : subgraph.initializers) defined.insert(name);
  for (const Node& node : subgraph.nodes)
    for (const std::string& o : node.outputs) defined.insert(o);
  auto read = [&](const std::string& name) {
    if (!name.empty() && !defined.count(name)) out->insert(name);
  };
  for (const Node& node : subgraph.nodes) {
    for (const std::string& in : node.inputs) read(in);
    for (const auto& [key, attr] : node.attrs) {
      if (attr.kind != Attribute::Kind::kGraph || !attr.g) continue;
      std::set<std::string> nested;
      outer_reads(*attr.g, &nested);
      for (const std::string& name : nested) read(name);
    }
  }
  for (const ValueInfo& o : subgraph.outputs) read(o.name);
}

void collect_names(const Graph& graph, std::set<std::string>* out) {
  for (const ValueInfo& in : graph.inputs) out->insert(in.name);
  for (const auto& [name, tensor] : graph.initializers) out->insert(name);
  for (const Node& node : graph.nodes) {
    for (const std::string& o : node.outputs) out->insert(o);
    for (const auto& [key, attr] : node.attrs)
      if (attr.kind == Attribute::Kind::kGraph && attr.g) collect_names(*attr.g, out);
  }
}

void rename_reads(Graph& graph, const std::string& from, const std::string& to) {
  for (Node& node : graph.nodes)
    for (std::string& in : node.inputs) if (in == from) in = to;
  for (ValueInfo& o : graph.outputs) if (o.name == from) o.name = to;
}

GraphIndex::GraphIndex(Graph& graph) : graph_(graph), erased_(graph.nodes.size(), false) {
  for (const ValueInfo& o : graph.outputs) outputs_.insert(o.name);
  for (const ValueInfo& in : graph.inputs) inputs_.insert(in.name);
  collect_names(graph, &names_);
  for (size_t i = 0; i < graph.nodes.size(); ++i) add_node((int)i);
}

// The values node `n` reads: its inputs and what its subgraphs read from outside.
static std::set<std::string> reads_of(const Node& n, std::set<std::string>* subgraph_reads) {
  std::set<std::string> reads;
  for (const std::string& in : n.inputs) if (!in.empty()) reads.insert(in);
  for (const auto& [key, attr] : n.attrs) {
    if (attr.kind != Attribute::Kind::kGraph || !attr.g) continue;
    std::set<std::string> nested;
    outer_reads(*attr.g, &nested);
    if (subgraph_reads) subgraph_reads->insert(nested.begin(), nested.end());
    reads.insert(nested.begin(), nested.end());
  }
  return reads;
}

void GraphIndex::add_node(int i) {
  const Node& node = graph_.nodes[(size_t)i];
  for (const std::string& o : node.outputs) if (!o.empty()) producers_[o] = i;
  for (const std::string& name : reads_of(node, &subgraph_reads_)) {
    std::vector<int>& r = readers_[name];
    r.insert(std::lower_bound(r.begin(), r.end(), i), i);
  }
}

void GraphIndex::remove_node(int i) {
  const Node& node = graph_.nodes[(size_t)i];
  for (const std::string& o : node.outputs) {
    auto it = producers_.find(o);
    if (it != producers_.end() && it->second == i) producers_.erase(it);
  }
  for (const std::string& name : reads_of(node, nullptr)) {
    std::vector<int>& r = readers_[name];
    r.erase(std::remove(r.begin(), r.end(), i), r.end());
  }
}

int64_t GraphIndex::opset() const {
  auto it = graph_.opsets.find("");
  return it == graph_.opsets.end() ? 1 : it->second;
}

int GraphIndex::producer(const std::string& value) const {
  auto it = producers_.find(value);
  return it == producers_.end() ? -1 : it->second;
}

const std::vector<int>& GraphIndex::readers(const std::string& value) const {
  static const std::vector<int> none;
  auto it = readers_.find(value);
  return it == readers_.end() ? none : it->second;
}

int GraphIndex::sole_reader(const std::string& value) const {
  const std::vector<int>& r = readers(value);
  return r.size() == 1 && !is_graph_output(value) ? r[0] : -1;
}

const Tensor* GraphIndex::constant(const std::string& value) const {
  if (value.empty() || inputs_.count(value)) return nullptr;
  auto it = graph_.initializers.find(value);
  return it == graph_.initializers.end() ? nullptr : &it->second;
}

bool GraphIndex::scalar_constant(const std::string& value, float* out) const {
  const Tensor* t = constant(value);
  if (!t || !is_float(t->dtype()) || t->numel() != 1) return false;
  *out = t->to_float_vector()[0];
  return true;
}

std::string GraphIndex::fresh_name(const std::string& base) {
  std::string name = base;
  for (int n = 1; names_.count(name); ++n) name = base + "_" + std::to_string(n);
  names_.insert(name);
  return name;
}

void GraphIndex::erase(int i) {
  if (erased_[(size_t)i]) return;
  remove_node(i);
  erased_[(size_t)i] = true;
}

void GraphIndex::replace(const std::vector<int>& group, Node fused) {
  int last = -1;
  for (int g : group) {
    erase(g);
    last = std::max(last, g);
  }
  graph_.nodes[(size_t)last] = std::move(fused);
  erased_[(size_t)last] = false;
  add_node(last);
}

void GraphIndex::apply() {
  std::vector<Node> kept;
  kept.reserve(graph_.nodes.size());
  for (size_t i = 0; i < graph_.nodes.size(); ++i)
    if (!erased_[i]) kept.push_back(std::move(graph_.nodes[i]));
  graph_.nodes = std::move(kept);
}

}  // namespace hs::passes
