// Dead node elimination: a backward sweep from the graph outputs marks every node that writes a
// value someone needs (reads through subgraphs included) and the values it reads; the other
// nodes go, and so do initializers nobody reads (graph inputs stay: they are the interface).
#include <set>

#include "core/passes/graph_index.h"
#include "core/passes/passes.h"

namespace hs::passes {

int remove_dead_nodes(Graph& graph) {
  std::set<std::string> live;
  for (const ValueInfo& o : graph.outputs) live.insert(o.name);
  std::vector<bool> keep(graph.nodes.size(), false);
  for (size_t i = graph.nodes.size(); i-- > 0;) {
    const Node& node = graph.nodes[i];
    for (const std::string& o : node.outputs) keep[i] = keep[i] || (!o.empty() && live.count(o));
    if (!keep[i]) continue;
    for (const std::string& in : node.inputs) if (!in.empty()) live.insert(in);
    for (const auto& [key, attr] : node.attrs)
      if (attr.kind == Attribute::Kind::kGraph && attr.g) outer_reads(*attr.g, &live);
  }
  GraphIndex index(graph);
  int removed = 0;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) continue;
    index.erase((int)i);
    ++removed;
  }
  index.apply();
  std::set<std::string> inputs;
  for (const ValueInfo& in : graph.inputs) inputs.insert(in.name);
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();)
    it = live.count(it->first) || inputs.count(it->first) ? std::next(it) : graph.initializers.erase(it);
  return removed;
}

}  // namespace hs::passes
