// Attributes and shape checks of the recurrent operators (see recurrent_attrs.h).
#include "kernels/cpu/recurrent_attrs.h"

namespace hs::cpu {
namespace {

// f (, g (, h)) when the activations attribute is absent.
std::vector<std::string> default_activations(RecurrentCell cell) {
  if (cell == RecurrentCell::kRnn) return {"Tanh"};
  if (cell == RecurrentCell::kGru) return {"Sigmoid", "Tanh"};
  return {"Sigmoid", "Tanh", "Tanh"};
}

}  // namespace

Status parse_recurrent_attrs(const Node& node, RecurrentCell cell, RecurrentAttrs* out) {
  const char* op = recurrent_op(cell);
  RecurrentAttrs& a = *out;
  a = RecurrentAttrs();
  const std::string direction = node.attr_string("direction", "forward");
  if (direction == "bidirectional") a.directions = 2;
  else if (direction == "reverse") a.reverse = true;
  else if (direction != "forward") HS_FAIL(kUnsupportedOp, op, ": attribute direction='", direction, "' is not supported");
  a.hidden = node.attr_int("hidden_size", -1);
  if (const Attribute* clip = node.attr("clip")) {
    a.has_clip = true;
    a.clip = clip->f;
  }
  a.input_forget = node.attr_int("input_forget", 0) != 0;
  a.linear_before_reset = node.attr_int("linear_before_reset", 0) != 0;
  a.layout = node.attr_int("layout", 0);
  if (a.layout != 0 && a.layout != 1) HS_FAIL(kUnsupportedOp, op, ": attribute layout=", a.layout, " is not supported");
  const Attribute* names = node.attr("activations");
  return parse_rnn_activations(op, names ? names->strings : std::vector<std::string>{}, node.attr_floats("activation_alpha"),
                               node.attr_floats("activation_beta"), default_activations(cell), a.directions,
                               &a.activations);
}

Status check_recurrent_shape(RecurrentCell cell, const Shape* shape, const char* name, const Shape& expected) {
  if (shape && *shape != expected)
    HS_FAIL(kShape, recurrent_op(cell), ": ", name, " must have shape ", shape_str(expected), ", got ", shape_str(*shape));
  return Status::ok();
}

Status recurrent_sizes(RecurrentCell cell, const RecurrentAttrs& a, const Shape& x, const Shape& w, const Shape& r,
                       RecurrentSizes* out) {
  const char* op = recurrent_op(cell);
  if (x.size() != 3) HS_FAIL(kShape, op, ": X must have rank 3, got shape ", shape_str(x));
  if (r.size() != 3) HS_FAIL(kShape, op, ": R must have rank 3, got shape ", shape_str(r));
  RecurrentSizes& s = *out;
  s.seq = x[a.layout == 0 ? 0 : 1];
  s.batch = x[a.layout == 0 ? 1 : 0];
  s.input = x[2];
  s.directions = a.directions;
  s.gates = recurrent_gates(cell);
  s.hidden = a.hidden >= 0 ? a.hidden : r[2];
  HS_RETURN_IF_ERROR(check_recurrent_shape(cell, &w, "W", {s.directions, s.gates * s.hidden, s.input}));
  return check_recurrent_shape(cell, &r, "R", {s.directions, s.gates * s.hidden, s.hidden});
}

Shape recurrent_state_shape(const RecurrentAttrs& a, const RecurrentSizes& s) {
  return a.layout == 0 ? Shape{s.directions, s.batch, s.hidden} : Shape{s.batch, s.directions, s.hidden};
}

Shape recurrent_y_shape(const RecurrentAttrs& a, const RecurrentSizes& s) {
  return a.layout == 0 ? Shape{s.seq, s.directions, s.batch, s.hidden} : Shape{s.batch, s.seq, s.directions, s.hidden};
}

Status check_sequence_lens(RecurrentCell cell, DType dtype, const Shape& shape, const RecurrentSizes& s) {
  if (dtype != DType::kInt32 && dtype != DType::kInt64)
    HS_FAIL(kType, recurrent_op(cell), ": sequence_lens must be int32, got ", dtype_name(dtype));
  if (shape != Shape{s.batch})
    HS_FAIL(kShape, recurrent_op(cell), ": sequence_lens must have shape [", s.batch, "], got ", shape_str(shape));
  return Status::ok();
}

}  // namespace hs::cpu
