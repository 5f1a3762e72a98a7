#include "core/passes/activation_match.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace hs::passes {
namespace {

// Equal to `expected` up to float32 rounding of the constant.
bool close_to(float value, double expected) { return std::fabs(value - expected) <= 1e-6 * std::fabs(expected); }

bool scalar_close(const GraphIndex& index, const std::string& name, double expected) {
  float v;
  return !name.empty() && index.scalar_constant(name, &v) && close_to(v, expected);
}

int reader_op(const GraphIndex& index, const std::string& value, const char* op) {
  const int r = index.sole_reader(value);
  return r >= 0 && is_onnx_op(index.node(r), op) ? r : -1;
}

void finish(const GraphIndex& index, std::string name, std::vector<float> params, std::vector<int> nodes,
            ActivationMatch* out) {
  std::sort(nodes.begin(), nodes.end());
  out->name = std::move(name);
  out->params = std::move(params);
  out->output = index.node(nodes.back()).outputs[0];
  out->nodes = std::move(nodes);
}

bool match_single(const GraphIndex& index, int r, const std::string& value, bool allow_gelu, ActivationMatch* out) {
  const Node& n = index.node(r);
  if (n.outputs.size() != 1 || n.outputs[0].empty() || n.inputs.empty() || n.inputs[0] != value) return false;
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  const std::string& op = n.op_type;
  const size_t inputs = n.inputs.size();
  if (inputs == 1 && (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish")) {
    finish(index, op, {}, {r}, out);
  } else if (inputs == 1 && op == "LeakyRelu") {
    finish(index, op, {n.attr_float("alpha", 0.01f)}, {r}, out);
  } else if (inputs == 1 && op == "HardSigmoid") {
    finish(index, op, {n.attr_float("alpha", 0.2f), n.attr_float("beta", 0.5f)}, {r}, out);
  } else if (inputs == 1 && op == "Gelu" && allow_gelu) {
    const std::string approximate = n.attr_string("approximate", "none");
    if (approximate != "none" && approximate != "tanh") return false;
    finish(index, approximate == "none" ? "Gelu" : "GeluTanh", {}, {r}, out);
  } else if (op == "Clip") {
    float lo, hi;
    if (index.opset() < 11) {
      if (inputs != 1) return false;
      lo = n.attr_float("min", -FLT_MAX);
      hi = n.attr_float("max", FLT_MAX);
    } else {
      const bool has_lo = inputs > 1 && !n.inputs[1].empty(), has_hi = inputs > 2 && !n.inputs[2].empty();
      if (inputs > 3 || (has_lo && !index.scalar_constant(n.inputs[1], &lo)) ||
          (has_hi && !index.scalar_constant(n.inputs[2], &hi)))
        return false;
      if (!has_lo) lo = -std::numeric_limits<float>::infinity();
      if (!has_hi) hi = std::numeric_limits<float>::infinity();
    }
    finish(index, op, {lo, hi}, {r}, out);
  } else {
    return false;
  }
  return true;
}

// Sigmoid(x) * x.
bool match_silu(const GraphIndex& index, int a, int b, const std::string& value, ActivationMatch* out) {
  for (auto [sig, mul] : {std::pair{a, b}, std::pair{b, a}}) {
    const Node& s = index.node(sig);
    const Node& m = index.node(mul);
    if (!is_onnx_op(s, "Sigmoid") || s.inputs.size() != 1 || !is_onnx_op(m, "Mul")) continue;
    if (other_input(m, value) != s.outputs[0] || index.sole_reader(s.outputs[0]) != mul) continue;
    finish(index, "Silu", {}, {sig, mul}, out);
    return true;
  }
  return false;
}

// Clip(v, 0, 6) with constant bounds (or the opset < 11 attributes).
bool is_relu6(const GraphIndex& index, const Node& n) {
  if (!is_onnx_op(n, "Clip") || n.outputs.size() != 1) return false;
  if (index.opset() < 11) return n.inputs.size() == 1 && n.attr_float("min", -FLT_MAX) == 0.f && n.attr_float("max", FLT_MAX) == 6.f;
  return n.inputs.size() == 3 && scalar_close(index, n.inputs[1], 0.0) && scalar_close(index, n.inputs[2], 6.0);
}

// HardSwish as exporters decompose it: x * Clip(x + 3, 0, 6) / 6 (or * (1/6)), and
// x * HardSigmoid(x) with alpha 1/6, beta 0.5.
bool match_hardswish(const GraphIndex& index, int a, int b, const std::string& value, ActivationMatch* out) {
  for (auto [gate, mul] : {std::pair{a, b}, std::pair{b, a}}) {
    const Node& g = index.node(gate);
    const Node& m = index.node(mul);
    if (!is_onnx_op(m, "Mul") || g.outputs.size() != 1) continue;
    if (is_onnx_op(g, "HardSigmoid") && g.inputs.size() == 1 && close_to(g.attr_float("alpha", 0.2f), 1.0 / 6) &&
        close_to(g.attr_float("beta", 0.5f), 0.5) && other_input(m, value) == g.outputs[0] &&
        index.sole_reader(g.outputs[0]) == mul) {
      finish(index, "HardSwish", {}, {gate, mul}, out);
      return true;
    }
    if (!is_onnx_op(g, "Add") || !scalar_close(index, other_input(g, value), 3.0)) continue;
    const int clip = index.sole_reader(g.outputs[0]);
    if (clip < 0 || !is_relu6(index, index.node(clip)) || other_input(m, value) != index.node(clip).outputs[0] ||
        index.sole_reader(index.node(clip).outputs[0]) != mul)
      continue;
    const int scale = index.sole_reader(m.outputs[0]);
    if (scale < 0) continue;
    const Node& sc = index.node(scale);
    const bool div6 = is_onnx_op(sc, "Div") && sc.inputs.size() == 2 && sc.inputs[0] == m.outputs[0] && scalar_close(index, sc.inputs[1], 6.0);
    const bool mul6 = is_onnx_op(sc, "Mul") && scalar_close(index, other_input(sc, m.outputs[0]), 1.0 / 6);
    if (!div6 && !mul6) continue;
    finish(index, "HardSwish", {}, {gate, clip, mul, scale}, out);
    return true;
  }
  return false;
}

// x * 0.5 * (1 + Erf(x / sqrt 2)), with x / sqrt 2 also as x * (1 / sqrt 2).
bool match_gelu(const GraphIndex& index, int a, int b, const std::string& value, ActivationMatch* out) {
  for (auto [div, mul] : {std::pair{a, b}, std::pair{b, a}}) {
    const Node& d = index.node(div);
    const bool scaled = (is_onnx_op(d, "Div") && d.inputs.size() == 2 && d.inputs[0] == value &&
                         scalar_close(index, d.inputs[1], M_SQRT2)) ||
                        (is_onnx_op(d, "Mul") && scalar_close(index, other_input(d, value), M_SQRT1_2));
    const Node& m0 = index.node(mul);
    if (!scaled || !is_onnx_op(m0, "Mul")) continue;
    const int erf = reader_op(index, d.outputs[0], "Erf");
    if (erf < 0) continue;
    const int add = reader_op(index, index.node(erf).outputs[0], "Add");
    if (add < 0 || !scalar_close(index, other_input(index.node(add), index.node(erf).outputs[0]), 1.0)) continue;
    const std::string& one_plus_erf = index.node(add).outputs[0];
    const std::string m0_other = other_input(m0, value);
    std::vector<int> nodes = {div, erf, add, mul};
    if (scalar_close(index, m0_other, 0.5)) {  // (x * 0.5) * (1 + erf)
      const int last = index.sole_reader(m0.outputs[0]);
      if (last < 0 || last != index.sole_reader(one_plus_erf) || !is_onnx_op(index.node(last), "Mul") ||
          other_input(index.node(last), m0.outputs[0]) != one_plus_erf)
        continue;
      nodes.push_back(last);
    } else if (m0_other == one_plus_erf) {  // (x * (1 + erf)) * 0.5
      const int last = reader_op(index, m0.outputs[0], "Mul");
      if (last < 0 || index.sole_reader(one_plus_erf) != mul ||
          !scalar_close(index, other_input(index.node(last), m0.outputs[0]), 0.5))
        continue;
      nodes.push_back(last);
    } else {  // x * ((1 + erf) * 0.5)
      const int half = reader_op(index, one_plus_erf, "Mul");
      if (half < 0 || index.node(half).outputs[0] != m0_other ||
          !scalar_close(index, other_input(index.node(half), one_plus_erf), 0.5) ||
          index.sole_reader(m0_other) != mul)
        continue;
      nodes.push_back(half);
    }
    finish(index, "Gelu", {}, nodes, out);
    return true;
  }
  return false;
}

}  // namespace

bool match_activation(const GraphIndex& index, const std::string& value, bool allow_gelu, ActivationMatch* out) {
  if (value.empty() || index.is_graph_output(value) || index.read_by_subgraph(value)) return false;
  const std::vector<int>& readers = index.readers(value);
  if (readers.size() == 1) return match_single(index, readers[0], value, allow_gelu, out);
  if (readers.size() != 2) return false;
  return match_silu(index, readers[0], readers[1], value, out) || match_hardswish(index, readers[0], readers[1], value, out) ||
         (allow_gelu && match_gelu(index, readers[0], readers[1], value, out));
}

void set_activation_attrs(const ActivationMatch& act, Node* fused) {
  Attribute name;
  name.kind = Attribute::Kind::kString;
  name.s = act.name;
  fused->attrs["activation"] = name;
  if (act.params.empty()) return;
  Attribute params;
  params.kind = Attribute::Kind::kFloats;
  params.floats = act.params;
  fused->attrs["activation_params"] = params;
}

std::string node_label(const Node& node) { return node.name.empty() ? node.op_type : node.name; }

}  // namespace hs::passes
