// Recognises the activation applied to a value, as the fused operators' `activation` /
// `activation_params` attributes name it: a single activation node (Relu, LeakyRelu, Sigmoid,
// Tanh, Clip with constant bounds, HardSigmoid, HardSwish, Gelu), Sigmoid(x) * x (Silu), HardSwish
// decomposed (x * Clip(x + 3, 0, 6) / 6, x * HardSigmoid(x)), and the
// decomposed exact Gelu x * 0.5 * (1 + Erf(x / sqrt 2)) in the association orders exporters emit.
// Every value inside the matched nodes must be read only by them.
#pragma once
#include <string>
#include <vector>

#include "core/passes/graph_index.h"

namespace hs::passes {

struct ActivationMatch {
  std::string name;                 // "Relu", ..., "Silu", "Gelu", "GeluTanh"
  std::vector<float> params;        // activation_params
  std::vector<int> nodes;           // the matched nodes; the last one writes `output`
  std::string output;
};

// The activation reading `value` (whose only readers must be the matched nodes), if any.
// `allow_gelu`: whether Gelu / GeluTanh are acceptable to the fused operator.
bool match_activation(const GraphIndex& index, const std::string& value, bool allow_gelu, ActivationMatch* out);

// Writes the activation and activation_params attributes of a fused node.
void set_activation_attrs(const ActivationMatch& act, Node* fused);

// "name" of a node for reports, or its op type when unnamed.
std::string node_label(const Node& node);

}  // namespace hs::passes
