// GraphIndex: who produces and who reads each value of one graph, built once per pass. A node
// whose subgraph (If/Loop/Scan body) reads a value of this graph counts as one of its readers,
// so no pass removes or rewires a value a subgraph still needs.
//
// Passes rewrite through it in the same way: the fused node replaces the last node of the
// matched group in place (all its inputs exist there, all readers of its output come after),
// the other nodes of the group are marked erased, and apply() drops them at the end.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hs/graph.h"

namespace hs::passes {

class GraphIndex {
 public:
  explicit GraphIndex(Graph& graph);

  Graph& graph() { return graph_; }
  Node& node(int i) { return graph_.nodes[(size_t)i]; }
  const Node& node(int i) const { return graph_.nodes[(size_t)i]; }
  int64_t opset() const;  // the graph's ai.onnx opset

  // The index of the node producing `value`, or -1 (graph input, initializer, outer value).
  int producer(const std::string& value) const;
  // The nodes reading `value` (each once, in graph order), including through subgraphs.
  const std::vector<int>& readers(const std::string& value) const;
  bool is_graph_output(const std::string& value) const { return outputs_.count(value) > 0; }
  // True when a subgraph of some node reads `value`.
  bool read_by_subgraph(const std::string& value) const { return subgraph_reads_.count(value) > 0; }
  // The node that is the only reader of `value`, when `value` is also no graph output; else -1.
  int sole_reader(const std::string& value) const;
  // The tensor of an initializer that no graph input overrides, else nullptr.
  const Tensor* constant(const std::string& value) const;
  // A scalar (one element) float constant, or false.
  bool scalar_constant(const std::string& value, float* out) const;

  // A name no value of the graph (or its subgraphs) uses yet, built from `base`; reserved.
  std::string fresh_name(const std::string& base);

  // Replaces the nodes of `group` (node indices) by `fused`, which takes the place of the last;
  // the index follows, so later matches in the same pass see the rewritten graph.
  void replace(const std::vector<int>& group, Node fused);
  void erase(int i);
  bool erased(int i) const { return erased_[(size_t)i]; }
  // Drops the erased nodes. The index must not be used afterwards.
  void apply();

 private:
  Graph& graph_;
  std::map<std::string, int> producers_;
  std::map<std::string, std::vector<int>> readers_;
  std::set<std::string> outputs_;
  std::set<std::string> inputs_;
  std::set<std::string> subgraph_reads_;
  std::set<std::string> names_;
  void add_node(int i);     // records node i's reads and writes
  void remove_node(int i);  // forgets them

  std::vector<bool> erased_;
};

// An ai.onnx node of this op type with exactly one (named) output.
bool is_onnx_op(const Node& node, const char* op);
// The input of a two-input node that is not `known`; "" unless the node reads `known` exactly once
// among exactly two inputs.
std::string other_input(const Node& node, const std::string& known);

// The names a subgraph reads from the graphs enclosing it (used but not defined inside it).
void outer_reads(const Graph& subgraph, std::set<std::string>* out);
// Every value name defined anywhere in `graph` and its subgraphs.
void collect_names(const Graph& graph, std::set<std::string>* out);
// Renames every read of `from` into `to` in the nodes and outputs of `graph` (not in subgraphs).
void rename_reads(Graph& graph, const std::string& from, const std::string& to);

}  // namespace hs::passes
