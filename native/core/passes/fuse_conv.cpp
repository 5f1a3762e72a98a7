// Conv [-> BatchNormalization] [-> Mul / Add by constants] [-> Add residual] [-> activation] into
// one hs:FusedConv, Y = act(conv(X, W') + B' + Z).
//
// BatchNormalization (inference form, constant parameters, float32 weights) folds into the
// weights: with s = scale / sqrt(var + eps) per output channel, W' = W * s and
// B' = (B - mean) * s + bias, computed in double. So do a Mul by and an Add of constants that
// hold one value, or one per output channel (PP-LCNet's "learnable affine blocks"): W' = W * s,
// B' = B * s, and B' = B + t. The Add becomes the residual input Z when its
// other operand provably has the convolution's output shape (so the Add broadcasts nothing) and
// dtype. Every intermediate value must be read only by the next node of the group. On the CPU, a
// Mul and / or Add by single constants after the activation (the same blocks behind a HardSwish)
// joins too, as the output_affine attribute: Y = act(...) * scale + shift, applied with the
// activation while the output is in cache.
#include <cmath>

#include "core/passes/activation_match.h"
#include "core/passes/passes.h"
#include "hs/kernel.h"

namespace hs::passes {
namespace {

const Tensor* float32_constant(const GraphIndex& index, const std::string& name) {
  const Tensor* t = index.constant(name);
  return t && t->dtype() == DType::kFloat32 ? t : nullptr;
}

// BatchNormalization reading `value` whose parameters can fold into the weights `w` / bias `b`.
bool foldable_batch_norm(const GraphIndex& index, const Node& bn, const std::string& value, const Tensor* w,
                         const std::string& bias_name) {
  if (bn.op_type != "BatchNormalization" || (!bn.domain.empty() && bn.domain != "ai.onnx")) return false;
  if (bn.inputs.size() != 5 || bn.inputs[0] != value || bn.outputs.empty() || bn.outputs[0].empty()) return false;
  for (size_t i = 1; i < bn.outputs.size(); ++i)  // running statistics (training only) must be unused
    if (!bn.outputs[i].empty() && (!index.readers(bn.outputs[i]).empty() || index.is_graph_output(bn.outputs[i])))
      return false;
  if (bn.attr_int("training_mode", 0) != 0 || (index.opset() < 9 && bn.attr_int("spatial", 1) != 1)) return false;
  if (!w || w->rank() < 3) return false;
  const int64_t channels = w->dim(0);
  if (!bias_name.empty()) {
    const Tensor* b = float32_constant(index, bias_name);
    if (!b || b->rank() != 1 || b->dim(0) != channels) return false;
  }
  for (size_t i = 1; i < 5; ++i) {
    const Tensor* p = index.constant(bn.inputs[i]);
    if (!p || !is_float(p->dtype()) || p->rank() != 1 || p->dim(0) != channels) return false;
  }
  return true;
}

// W' and B' of a Conv followed by the BatchNormalization `bn` (checked by foldable_batch_norm).
void fold_batch_norm(const GraphIndex& index, const Node& bn, const Tensor& w, const Tensor* b, Tensor* w_out,
                     Tensor* b_out) {
  const std::vector<float> scale = index.constant(bn.inputs[1])->to_float_vector();
  const std::vector<float> shift = index.constant(bn.inputs[2])->to_float_vector();
  const std::vector<float> mean = index.constant(bn.inputs[3])->to_float_vector();
  const std::vector<float> var = index.constant(bn.inputs[4])->to_float_vector();
  const double eps = bn.attr_float("epsilon", 1e-5f);
  const int64_t channels = w.dim(0), per_channel = w.numel() / channels;
  *w_out = Tensor::empty(DType::kFloat32, w.shape());
  *b_out = Tensor::empty(DType::kFloat32, {channels});
  const float* wi = w.data<float>();
  float* wo = w_out->data<float>();
  for (int64_t c = 0; c < channels; ++c) {
    const double s = scale[c] / std::sqrt((double)var[c] + eps);
    for (int64_t k = 0; k < per_channel; ++k) wo[c * per_channel + k] = (float)(wi[c * per_channel + k] * s);
    const double bias = b ? b->data<float>()[c] : 0.0;
    b_out->data<float>()[c] = (float)((bias - mean[c]) * s + shift[c]);
  }
}

// A Mul or Add reading `value` (the output of a convolution with weights `w`) whose other operand
// is a float32 constant with one value, or one per output channel laid along the channel axis
// ([M, 1, ..., 1] or [1, M, 1, ..., 1]); its values, one per output channel, go to `per_channel`.
bool channel_constant(const GraphIndex& index, const Node& op, const std::string& value, const Tensor& w,
                      std::vector<float>* per_channel) {
  if (!is_onnx_op(op, "Mul") && !is_onnx_op(op, "Add")) return false;
  const Tensor* c = float32_constant(index, other_input(op, value));
  const int64_t channels = w.dim(0);
  const size_t rank = w.rank();  // the convolution's output rank
  if (!c || w.rank() < 3 || (size_t)c->rank() > rank || op.outputs.size() != 1) return false;
  if (c->numel() != 1) {
    const Shape& s = c->shape();
    const size_t axis = s.size() == rank ? 1 : 0;  // where the channels lie
    if (s.size() + 1 < rank || s[axis] != channels) return false;
    for (size_t i = 0; i < s.size(); ++i)
      if (i != axis && s[i] != 1) return false;
  }
  const std::vector<float> v = c->to_float_vector();
  per_channel->assign((size_t)channels, v[0]);
  if (v.size() > 1) *per_channel = v;
  return true;
}

// A Mul or Add reading `value` (float32, of known rank) whose other operand is a float32 constant
// with one value and no more dimensions: the result has value's shape.
bool post_activation_constant(const GraphIndex& index, const Node& op, const std::string& value, const PassContext& ctx) {
  if ((!is_onnx_op(op, "Mul") && !is_onnx_op(op, "Add")) || op.outputs.size() != 1) return false;
  const Tensor* c = float32_constant(index, other_input(op, value));
  auto t = ctx.types.find(value);
  return c && c->numel() == 1 && t != ctx.types.end() && t->second.dtype == DType::kFloat32 && t->second.has_rank &&
         c->rank() <= t->second.rank();
}

// W' and B' of a convolution (weights w, bias b or none) followed by a Mul (`scale`) or an Add by
// the per-channel values c.
void fold_affine(const Tensor& w, const Tensor* b, const std::vector<float>& c, bool scale, Tensor* w_out, Tensor* b_out) {
  const int64_t channels = w.dim(0), per_channel = w.numel() / channels;
  *w_out = scale ? Tensor::empty(DType::kFloat32, w.shape()) : w;
  *b_out = Tensor::empty(DType::kFloat32, {channels});
  for (int64_t m = 0; m < channels; ++m) {
    if (scale)
      for (int64_t k = 0; k < per_channel; ++k) w_out->data<float>()[m * per_channel + k] = (float)((double)w.data<float>()[m * per_channel + k] * c[m]);
    const double bias = b ? b->data<float>()[m] : 0.0;
    b_out->data<float>()[m] = (float)(scale ? bias * c[m] : bias + c[m]);
  }
}

}  // namespace

int fuse_conv(Graph& graph, PassContext& ctx) {
  if (!find_kernel("hs", "FusedConv")) return 0;
  GraphIndex index(graph);
  int fused = 0;
  for (int i = 0; i < (int)graph.nodes.size(); ++i) {
    const Node& conv = index.node(i);
    if (index.erased(i) || !is_onnx_op(conv, "Conv") || conv.inputs.size() < 2 || conv.inputs.size() > 3) continue;
    std::vector<std::string> inputs = conv.inputs;  // X, W, B, Z
    inputs.resize(4);
    std::vector<int> group = {i};
    std::string value = conv.outputs[0];
    std::string label = node_label(conv);

    int next = index.sole_reader(value);
    const Tensor* w = float32_constant(index, inputs[1]);
    const Tensor* b = inputs[2].empty() ? nullptr : index.constant(inputs[2]);  // folds replace both
    // Node `next`, folded into new_w / new_b, joins the group.
    auto fold = [&](Tensor new_w, Tensor new_b, const char* suffix) {
      const Node& op = index.node(next);
      inputs[1] = index.fresh_name(inputs[1] + suffix);
      inputs[2] = index.fresh_name(op.outputs[0] + "_bias");
      w = &(graph.initializers[inputs[1]] = std::move(new_w));
      b = &(graph.initializers[inputs[2]] = std::move(new_b));
      group.push_back(next);
      value = op.outputs[0];
      label += "+" + node_label(op);
      next = index.sole_reader(value);
    };
    if (next >= 0 && foldable_batch_norm(index, index.node(next), value, w, inputs[2])) {
      Tensor new_w, new_b;
      fold_batch_norm(index, index.node(next), *w, b, &new_w, &new_b);
      fold(std::move(new_w), std::move(new_b), "_bn");
    }
    // The affine folds need the bias to be none or a constant [M].
    const bool bias_ok = inputs[2].empty() || (b && b->dtype() == DType::kFloat32 && b->rank() == 1 && w && b->dim(0) == w->dim(0));
    for (std::vector<float> c; bias_ok && next >= 0 && w && channel_constant(index, index.node(next), value, *w, &c);) {
      Tensor new_w, new_b;
      fold_affine(*w, b, c, index.node(next).op_type == "Mul", &new_w, &new_b);
      fold(std::move(new_w), std::move(new_b), "_scaled");
    }
    if (next >= 0 && is_onnx_op(index.node(next), "Add")) {
      const std::string residual = other_input(index.node(next), value);
      auto vt = ctx.types.find(value), rt = ctx.types.find(residual);
      if (!residual.empty() && vt != ctx.types.end() && rt != ctx.types.end() && same_shape(vt->second, rt->second) &&
          vt->second.dtype == rt->second.dtype && vt->second.dtype != DType::kUndefined) {
        inputs[3] = residual;
        group.push_back(next);
        value = index.node(next).outputs[0];
        label += "+" + node_label(index.node(next));
      }
    }
    ActivationMatch act;
    const bool has_act = match_activation(index, value, false, &act);
    if (group.size() == 1 && !has_act) continue;

    Node node;
    node.name = conv.name;
    node.op_type = "FusedConv";
    node.domain = "hs";
    node.attrs = conv.attrs;
    while (!inputs.empty() && inputs.back().empty()) inputs.pop_back();
    node.inputs = inputs;
    if (has_act) {
      set_activation_attrs(act, &node);
      group.insert(group.end(), act.nodes.begin(), act.nodes.end());
      value = act.output;
      for (int a : act.nodes) label += "+" + node_label(index.node(a));
    }
    if (has_act && ctx.options.device == "cpu") {
      double scale = 1, shift = 0;
      for (next = index.sole_reader(value); next >= 0 && post_activation_constant(index, index.node(next), value, ctx);
           next = index.sole_reader(value)) {
        const Node& op = index.node(next);
        const double c = float32_constant(index, other_input(op, value))->to_float_vector()[0];
        if (op.op_type == "Mul") scale *= c, shift *= c;
        else shift += c;
        group.push_back(next);
        value = op.outputs[0];
        label += "+" + node_label(op);
      }
      if (scale != 1 || shift != 0) {
        Attribute affine;
        affine.kind = Attribute::Kind::kFloats;
        affine.floats = {(float)scale, (float)shift};
        node.attrs["output_affine"] = affine;
      }
    }
    node.outputs = {value};
    index.replace(group, std::move(node));
    ctx.report.fusions.push_back("FusedConv(" + label + ")");
    ++fused;
  }
  index.apply();
  return fused;
}

}  // namespace hs::passes
