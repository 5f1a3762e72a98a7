// Control flow: If, Loop, Scan and SequenceMap run the graphs in their attributes through the
// execution plan's SubgraphRunner (values of the enclosing graphs are visible to them by name).
//
// If runs then_branch or else_branch and forwards its outputs (of any kind: tensors, sequences,
// optionals). Loop runs `body` while the trip count and the condition allow, threading the
// loop-carried values (of any kind) through, and stacks each step's scan outputs along a new
// first axis. SequenceMap runs `body` once per element of its first input (a sequence), giving it
// that element of every sequence input and every tensor input whole, and collects each output
// into a sequence. Scan (opset 8 with its batch axis and
// sequence_lens, 9+ without) feeds `body` one slice of every scan input per step (along
// scan_input_axes, forwards or reversed), threads the state values and stacks the scan outputs
// along scan_output_axes. Slices along the outermost axis are zero-copy views; stacking is one
// parallel memcpy per (step, outer row) (axis_slices.h).
#include <limits>

#include "hs/subgraph.h"
#include "kernels/cpu/axis_slices.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

// The graph attribute `name`, or ERR_INVALID_MODEL.
Status graph_attr(const Node& node, const char* name, const Graph** out) {
  const Attribute* a = node.attr(name);
  if (!a || a->kind != Attribute::Kind::kGraph || !a->g)
    return Status(StatusCode::kInvalidModel, str_cat(node.op_type, " needs the graph attribute ", name));
  *out = a->g.get();
  return Status::ok();
}

// The value of a one-element bool tensor.
Status read_bool(const Tensor& t, const char* what, bool* out) {
  if (t.dtype() != DType::kBool || t.numel() != 1)
    HS_FAIL(kType, what, " must be a one-element bool tensor, got ", dtype_name(t.dtype()), " shape ", shape_str(t.shape()));
  *out = t.data<bool>()[0];
  return Status::ok();
}

Tensor scalar_int64(int64_t v) {
  Tensor t = Tensor::empty(DType::kInt64, {});
  t.data<int64_t>()[0] = v;
  return t;
}

Tensor scalar_bool(bool v) {
  Tensor t = Tensor::empty(DType::kBool, {});
  t.data<bool>()[0] = v;
  return t;
}

// Allocates output `index` as the stack of `parts` along `axis` (of the stacked rank) with
// `len` positions; with no parts, the shape and dtype come from the body's declared output.
Status output_stacked(KernelContext& ctx, int index, const std::vector<Tensor>& parts, int64_t axis, bool reverse,
                      int64_t len, const ValueInfo& declared) {
  Shape shape;
  DType dtype;
  if (!parts.empty()) {
    shape = parts[0].shape();
    dtype = parts[0].dtype();
  } else {
    for (const Dim& d : declared.dims) shape.push_back(std::max(d.value, (int64_t)0));
    dtype = declared.dtype == DType::kUndefined ? DType::kFloat32 : declared.dtype;
  }
  if (dtype == DType::kString) HS_FAIL(kType, "scan outputs of strings are not supported");
  const int64_t rank = (int64_t)shape.size() + 1;
  if (axis < -rank || axis >= rank) HS_FAIL(kInvalidArgument, "scan output axis ", axis, " is out of range for rank ", rank);
  if (axis < 0) axis += rank;
  shape.insert(shape.begin() + axis, len);
  Tensor* out = ctx.output(index, dtype, shape);
  if ((int64_t)parts.size() < len) std::memset(out->raw(), 0, out->nbytes());
  return stack_slices(parts, axis, reverse, out, ctx.pool());
}

class IfKernel final : public KernelBase {
 public:
  explicit IfKernel(const KernelInfo& info) {
    const Graph* g;
    init_status = graph_attr(info.node, "then_branch", &g);
    if (init_status.is_ok()) init_status = graph_attr(info.node, "else_branch", &g);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* cond_t;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "If", &cond_t));
    bool cond;
    HS_RETURN_IF_ERROR(read_bool(*cond_t, "If: cond", &cond));
    std::vector<Value> outputs;
    const char* branch = cond ? "then_branch" : "else_branch";
    HS_RETURN_IF_ERROR(ctx.subgraphs()->run(branch, {}, &outputs));
    if ((int)outputs.size() != ctx.num_outputs())
      HS_FAIL(kInvalidModel, "If: ", branch, " has ", outputs.size(), " outputs, the node ", ctx.num_outputs());
    for (size_t i = 0; i < outputs.size(); ++i) ctx.set_output_value((int)i, outputs[i]);
    return Status::ok();
  }
};

// Loop: inputs (M, cond, v_initial...), body (iteration, cond, carried...) ->
// (cond, carried..., scan outputs...), node outputs (final carried..., stacked scan outputs...).
class LoopKernel final : public KernelBase {
 public:
  explicit LoopKernel(const KernelInfo& info) {
    const Graph* body;
    init_status = graph_attr(info.node, "body", &body);
    if (!init_status.is_ok()) return;
    num_carried_ = (int64_t)info.node.inputs.size() - 2;
    num_scan_ = (int64_t)body->outputs.size() - 1 - num_carried_;
    if (num_carried_ < 0 || num_scan_ < 0 || (int64_t)body->inputs.size() != 2 + num_carried_)
      init_status = Status(StatusCode::kInvalidModel, str_cat("Loop: body with ", body->inputs.size(), " inputs and ",
                                                              body->outputs.size(), " outputs does not fit ",
                                                              info.node.inputs.size(), " node inputs"));
    else body_outputs_ = body->outputs;
  }

  bool takes_strings() const override { return true; }
  bool takes_containers() const override { return true; }  // carried sequences and optionals

  Status compute(KernelContext& ctx) const override {
    int64_t max_trips = std::numeric_limits<int64_t>::max();
    if (ctx.input(0)) HS_RETURN_IF_ERROR(read_int_scalar(*ctx.input(0), "Loop", "M", &max_trips));
    bool cond = true;
    if (ctx.input(1)) HS_RETURN_IF_ERROR(read_bool(*ctx.input(1), "Loop: cond", &cond));
    std::vector<Value> carried;
    for (int64_t i = 0; i < num_carried_; ++i) {
      const Value* v = ctx.input_value((int)(2 + i));
      if (!v) HS_FAIL(kInvalidModel, "Loop needs input ", 2 + i);
      carried.push_back(*v);
    }
    std::vector<std::vector<Tensor>> scans((size_t)num_scan_);
    std::vector<Value> outputs;
    int64_t trips = 0;
    for (; trips < max_trips && cond; ++trips) {
      std::vector<Value> inputs{scalar_int64(trips), scalar_bool(cond)};
      inputs.insert(inputs.end(), carried.begin(), carried.end());
      HS_RETURN_IF_ERROR(ctx.subgraphs()->run("body", inputs, &outputs));
      if ((int64_t)outputs.size() != 1 + num_carried_ + num_scan_)
        HS_FAIL(kInvalidModel, "Loop: body returned ", outputs.size(), " values");
      for (int64_t k = 0; k < num_scan_; ++k)
        if (!outputs[(size_t)(1 + num_carried_ + k)].is_tensor()) HS_FAIL(kType, "Loop: scan output ", k, " must be a tensor");
      if (!outputs[0].is_tensor()) HS_FAIL(kType, "Loop: the body's cond output must be a tensor");
      HS_RETURN_IF_ERROR(read_bool(outputs[0].tensor(), "Loop: body's cond output", &cond));
      for (int64_t i = 0; i < num_carried_; ++i) carried[(size_t)i] = outputs[(size_t)(1 + i)];
      for (int64_t k = 0; k < num_scan_; ++k) scans[(size_t)k].push_back(outputs[(size_t)(1 + num_carried_ + k)].tensor());
    }
    for (int64_t i = 0; i < num_carried_; ++i) ctx.set_output_value((int)i, carried[(size_t)i]);
    for (int64_t k = 0; k < num_scan_; ++k)
      HS_RETURN_IF_ERROR(output_stacked(ctx, (int)(num_carried_ + k), scans[(size_t)k], 0, false, trips,
                                        body_outputs_[(size_t)(1 + num_carried_ + k)]));
    return Status::ok();
  }

 private:
  int64_t num_carried_ = 0, num_scan_ = 0;
  std::vector<ValueInfo> body_outputs_;
};

// Scan: body (states..., scan slices...) -> (states..., scan output slices...).
class ScanKernel final : public KernelBase {
 public:
  explicit ScanKernel(const KernelInfo& info) : batched_(info.opset < 9) {
    const Node& n = info.node;
    const Graph* body;
    init_status = graph_attr(n, "body", &body);
    if (!init_status.is_ok()) return;
    num_scan_inputs_ = n.attr_int("num_scan_inputs", 0);
    num_states_ = (int64_t)n.inputs.size() - (batched_ ? 1 : 0) - num_scan_inputs_;
    num_scan_outputs_ = (int64_t)body->outputs.size() - num_states_;
    if (num_scan_inputs_ < 1 || num_states_ < 0 || num_scan_outputs_ < 0 ||
        (int64_t)body->inputs.size() != num_states_ + num_scan_inputs_) {
      init_status = Status(StatusCode::kInvalidModel, str_cat("Scan: body with ", body->inputs.size(), " inputs and ",
                                                              body->outputs.size(), " outputs does not fit ",
                                                              n.inputs.size(), " node inputs and num_scan_inputs ",
                                                              num_scan_inputs_));
      return;
    }
    body_outputs_ = body->outputs;
    in_reverse_ = n.attr_ints(batched_ ? "directions" : "scan_input_directions");
    in_axes_ = n.attr_ints("scan_input_axes");
    out_reverse_ = n.attr_ints("scan_output_directions");
    out_axes_ = n.attr_ints("scan_output_axes");
    in_reverse_.resize((size_t)num_scan_inputs_, 0);
    in_axes_.resize((size_t)num_scan_inputs_, 0);
    out_reverse_.resize((size_t)num_scan_outputs_, 0);
    out_axes_.resize((size_t)num_scan_outputs_, 0);
  }

  Status compute(KernelContext& ctx) const override {
    const int first = batched_ ? 1 : 0;
    std::vector<Tensor> states, scan_inputs;
    for (int64_t i = 0; i < num_states_ + num_scan_inputs_; ++i) {
      const Tensor* t;
      HS_RETURN_IF_ERROR(require_input(ctx, first + (int)i, "Scan", &t));
      (i < num_states_ ? states : scan_inputs).push_back(*t);
    }
    return batched_ ? compute_batched(ctx, states, scan_inputs) : compute_unbatched(ctx, states, scan_inputs);
  }

 private:
  // Opset 9+: scan axes and directions from the attributes.
  Status compute_unbatched(KernelContext& ctx, std::vector<Tensor>& states, const std::vector<Tensor>& scan_inputs) const {
    std::vector<int64_t> axes = in_axes_;
    int64_t length = -1;
    for (size_t i = 0; i < scan_inputs.size(); ++i) {
      HS_RETURN_IF_ERROR(normalize_axis_of("Scan", axes[i], scan_inputs[i].rank(), &axes[i]));
      const int64_t len = scan_inputs[i].dim(axes[i]);
      if (length >= 0 && len != length) HS_FAIL(kShape, "Scan: scan inputs have different lengths ", length, " and ", len);
      length = len;
    }
    std::vector<std::vector<Tensor>> parts;
    HS_RETURN_IF_ERROR(run_steps(ctx, scan_inputs, axes, length, &states, &parts));
    for (int64_t i = 0; i < num_states_; ++i) ctx.set_output((int)i, states[(size_t)i]);
    for (int64_t k = 0; k < num_scan_outputs_; ++k)
      HS_RETURN_IF_ERROR(output_stacked(ctx, (int)(num_states_ + k), parts[(size_t)k], out_axes_[(size_t)k],
                                        out_reverse_[(size_t)k] != 0, length, body_outputs_[(size_t)(num_states_ + k)]));
    return Status::ok();
  }

  // Opset 8: every input has a batch axis 0, scan inputs scan along axis 1 for sequence_lens[b]
  // steps (the rest of a shorter sequence's scan outputs is zero).
  Status compute_batched(KernelContext& ctx, const std::vector<Tensor>& states, const std::vector<Tensor>& scan_inputs) const {
    const Tensor& first = scan_inputs[0];
    if (first.rank() < 2) HS_FAIL(kShape, "Scan: scan inputs need [batch, sequence, ...], got ", shape_str(first.shape()));
    const int64_t batch = first.dim(0), length = first.dim(1);
    for (const std::vector<Tensor>* group : {&states, &scan_inputs})
      for (const Tensor& t : *group)
        if (t.rank() < 1 || t.dim(0) != batch || (group == &scan_inputs && (t.rank() < 2 || t.dim(1) != length)))
          HS_FAIL(kShape, "Scan: input of shape ", shape_str(t.shape()), " does not have batch ", batch, " and length ", length);
    std::vector<int64_t> lengths((size_t)batch, length);
    if (ctx.input(0)) {
      HS_RETURN_IF_ERROR(read_int_list(*ctx.input(0), "Scan", "sequence_lens", &lengths));
      if ((int64_t)lengths.size() != batch) HS_FAIL(kShape, "Scan: sequence_lens has ", lengths.size(), " values for batch ", batch);
      for (int64_t len : lengths)
        if (len < 0 || len > length) HS_FAIL(kInvalidArgument, "Scan: sequence length ", len, " is outside [0, ", length, "]");
    }
    std::vector<std::vector<Tensor>> batch_states((size_t)num_states_), batch_scans((size_t)num_scan_outputs_);
    const std::vector<int64_t> axes((size_t)num_scan_inputs_, 0);
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Tensor> step_states, step_inputs;
      for (const Tensor& s : states) step_states.push_back(slice_at(s, 0, b, ctx.pool()));
      for (const Tensor& s : scan_inputs) step_inputs.push_back(slice_at(s, 0, b, ctx.pool()));
      std::vector<std::vector<Tensor>> parts;
      HS_RETURN_IF_ERROR(run_steps(ctx, step_inputs, axes, lengths[(size_t)b], &step_states, &parts));
      for (int64_t i = 0; i < num_states_; ++i) batch_states[(size_t)i].push_back(step_states[(size_t)i]);
      for (int64_t k = 0; k < num_scan_outputs_; ++k) {
        if (parts[(size_t)k].empty()) HS_FAIL(kUnsupportedOp, "Scan: a sequence of length 0 in a batch is not supported");
        Shape shape = parts[(size_t)k][0].shape();
        shape.insert(shape.begin(), length);
        Tensor stacked = Tensor::zeros(parts[(size_t)k][0].dtype(), shape);
        HS_RETURN_IF_ERROR(stack_slices(parts[(size_t)k], 0, out_reverse_[(size_t)k] != 0, &stacked, ctx.pool()));
        batch_scans[(size_t)k].push_back(stacked);
      }
    }
    for (int64_t i = 0; i < num_states_; ++i)
      HS_RETURN_IF_ERROR(output_stacked(ctx, (int)i, batch_states[(size_t)i], 0, false, batch, body_outputs_[(size_t)i]));
    for (int64_t k = 0; k < num_scan_outputs_; ++k)
      HS_RETURN_IF_ERROR(output_stacked(ctx, (int)(num_states_ + k), batch_scans[(size_t)k], 0, false, batch,
                                        body_outputs_[(size_t)(num_states_ + k)]));
    return Status::ok();
  }

  // Runs `length` steps; `states` are threaded through, parts[k] collects scan output k per step.
  Status run_steps(KernelContext& ctx, const std::vector<Tensor>& scan_inputs, const std::vector<int64_t>& axes,
                   int64_t length, std::vector<Tensor>* states, std::vector<std::vector<Tensor>>* parts) const {
    parts->assign((size_t)num_scan_outputs_, {});
    std::vector<Tensor> outputs;
    for (int64_t t = 0; t < length; ++t) {
      std::vector<Tensor> inputs = *states;
      for (size_t i = 0; i < scan_inputs.size(); ++i)
        inputs.push_back(slice_at(scan_inputs[i], axes[i], in_reverse_[i] ? length - 1 - t : t, ctx.pool()));
      HS_RETURN_IF_ERROR(ctx.subgraphs()->run_tensors("body", inputs, &outputs));
      if ((int64_t)outputs.size() != num_states_ + num_scan_outputs_)
        HS_FAIL(kInvalidModel, "Scan: body returned ", outputs.size(), " values");
      for (int64_t i = 0; i < num_states_; ++i) (*states)[(size_t)i] = outputs[(size_t)i];
      for (int64_t k = 0; k < num_scan_outputs_; ++k) (*parts)[(size_t)k].push_back(outputs[(size_t)(num_states_ + k)]);
    }
    return Status::ok();
  }

  bool batched_;
  int64_t num_scan_inputs_ = 0, num_states_ = 0, num_scan_outputs_ = 0;
  std::vector<int64_t> in_reverse_, in_axes_, out_reverse_, out_axes_;
  std::vector<ValueInfo> body_outputs_;
};

class SequenceMapKernel final : public KernelBase {
 public:
  explicit SequenceMapKernel(const KernelInfo& info) {
    const Graph* body;
    init_status = graph_attr(info.node, "body", &body);
  }
  bool takes_strings() const override { return true; }
  bool takes_containers() const override { return true; }

  Status compute(KernelContext& ctx) const override {
    std::vector<const Value*> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      inputs.push_back(ctx.input_value(i));
      if (!inputs.back()) HS_FAIL(kInvalidModel, "SequenceMap needs input ", i);
    }
    if (inputs.empty() || inputs[0]->kind() != ValueKind::kSequence) HS_FAIL(kType, "SequenceMap: input 0 must be a sequence");
    const size_t count = inputs[0]->items().size();
    for (const Value* v : inputs)
      if (v->kind() == ValueKind::kSequence && v->items().size() != count)
        HS_FAIL(kShape, "SequenceMap: the input sequences have ", count, " and ", v->items().size(), " elements");
      else if (v->kind() != ValueKind::kSequence && !v->is_tensor())
        HS_FAIL(kType, "SequenceMap: inputs must be sequences or tensors");
    std::vector<std::vector<Tensor>> collected((size_t)ctx.num_outputs());
    std::vector<Value> outputs;
    for (size_t step = 0; step < count; ++step) {
      std::vector<Value> args;
      for (const Value* v : inputs) args.push_back(v->kind() == ValueKind::kSequence ? Value(v->items()[step]) : *v);
      HS_RETURN_IF_ERROR(ctx.subgraphs()->run("body", args, &outputs));
      if (outputs.size() != collected.size()) HS_FAIL(kInvalidModel, "SequenceMap: body returned ", outputs.size(), " values");
      for (size_t k = 0; k < outputs.size(); ++k) {
        if (!outputs[k].is_tensor()) HS_FAIL(kType, "SequenceMap: body output ", k, " must be a tensor");
        collected[k].push_back(outputs[k].tensor());
      }
    }
    for (size_t k = 0; k < collected.size(); ++k) ctx.set_output_value((int)k, Value::sequence(std::move(collected[k])));
    return Status::ok();
  }
};

HS_REGISTER_KERNEL("", "If", IfKernel);
HS_REGISTER_KERNEL("", "Loop", LoopKernel);
HS_REGISTER_KERNEL("", "Scan", ScanKernel);
HS_REGISTER_KERNEL("", "SequenceMap", SequenceMapKernel);

}  // namespace
}  // namespace hs::cpu
