#include "execution_plan.h"

#include <chrono>
#include <set>

namespace hs {

Result<std::shared_ptr<ExecutionPlan>> ExecutionPlan::create(std::shared_ptr<const Graph> graph,
                                                             const std::map<std::string, int64_t>& opsets,
                                                             const std::vector<std::string>& outer,
                                                             const StaticTypes& outer_types) {
  auto plan = std::shared_ptr<ExecutionPlan>(new ExecutionPlan());
  plan->graph_ = graph;
  std::map<std::string, int> slot_of;
  auto new_slot = [&](const std::string& name) {
    int s = (int)plan->slot_names_.size();
    plan->slot_names_.push_back(name);
    slot_of[name] = s;
    return s;
  };
  std::set<std::string> outer_names(outer.begin(), outer.end());
  auto lookup = [&](const std::string& name, const Node* user) -> Result<int> {
    auto it = slot_of.find(name);
    if (it != slot_of.end()) return it->second;
    if (outer_names.count(name)) {
      int s = new_slot(name);
      plan->outer_slots_.emplace_back(s, name);
      return s;
    }
    return Status(StatusCode::kInvalidModel,
                  str_cat("value '", name, "' used by ", user ? user->describe() : "graph output",
                          " is not produced by any node, input or initializer"));
  };

  StaticTypes types = outer_types;
  for (auto& [name, tensor] : graph->initializers) {
    plan->constant_slots_.emplace_back(new_slot(name), tensor);
    types[name] = StaticType{ValueKind::kTensor, tensor.dtype()};
  }
  for (const ValueInfo& in : graph->inputs) {
    types[in.name] = StaticType{in.kind, in.dtype};
    // An input that is also an initializer is an overridable default; we bind the feed.
    auto it = slot_of.find(in.name);
    plan->input_slots_.push_back(it != slot_of.end() ? it->second : new_slot(in.name));
  }

  // Names visible to subgraphs: everything visible here.
  std::vector<std::string> visible(outer.begin(), outer.end());
  for (auto& [name, s] : slot_of) visible.push_back(name);
  for (const Node& n : graph->nodes)
    for (auto& o : n.outputs) if (!o.empty()) visible.push_back(o);

  for (const Node& node : graph->nodes) {
    Step step;
    step.node = &node;
    for (const std::string& in : node.inputs) {
      if (in.empty()) {
        step.inputs.push_back(-1);
        continue;
      }
      auto r = lookup(in, &node);
      if (!r.is_ok()) return r.status();
      step.inputs.push_back(r.value());
    }
    const KernelFactory* factory = find_kernel(node.domain, node.op_type);
    if (!factory)
      return Status(StatusCode::kUnsupportedOp, str_cat("unsupported operator ", node.describe()));
    auto op_it = opsets.find(node.domain == "ai.onnx" ? "" : node.domain);
    KernelInfo info{node, op_it == opsets.end() ? (int64_t)1 : op_it->second, &graph->initializers};
    auto kernel = (*factory)(info);
    if (!kernel.is_ok()) {
      const Status& st = kernel.status();
      return Status(st.code(), str_cat(node.describe(), ": ", st.message()));
    }
    step.kernel = kernel.take();
    Status takes = check_input_types(node, *step.kernel, types);
    if (!takes.is_ok()) return Status(takes.code(), str_cat(node.describe(), ": ", takes.message()));
    for (auto& [attr_name, attr] : node.attrs) {
      if (attr.kind != Attribute::Kind::kGraph || !attr.g) continue;
      auto sub = create(attr.g, opsets, visible, types);
      if (!sub.is_ok()) return sub.status();
      // A subgraph's outer reads are uses in this step (they must stay alive until it ends).
      for (auto& [s, name] : sub.value()->outer_slots()) {
        auto r = lookup(name, &node);
        if (!r.is_ok()) return r.status();
        step.inputs.push_back(r.value());  // extra trailing uses; kernels see only num_inputs()
      }
      step.subplans[attr_name] = sub.take();
    }
    for (const std::string& out : node.outputs) step.outputs.push_back(out.empty() ? -1 : new_slot(out));
    infer_output_types(node, types);
    plan->steps_.push_back(std::move(step));
  }
  for (const ValueInfo& out : graph->outputs) {
    auto r = lookup(out.name, nullptr);
    if (!r.is_ok()) return r.status();
    plan->output_slots_.push_back(r.value());
  }

  // Lifetimes: a slot dies after its last use unless it is a constant, an input or an output.
  std::vector<int> last_use(plan->slot_names_.size(), -1);
  for (size_t i = 0; i < plan->steps_.size(); ++i)
    for (int s : plan->steps_[i].inputs) if (s >= 0) last_use[s] = (int)i;
  std::set<int> keep(plan->output_slots_.begin(), plan->output_slots_.end());
  for (auto& [s, t] : plan->constant_slots_) keep.insert(s);
  for (int s : plan->input_slots_) keep.insert(s);
  for (auto& [s, n] : plan->outer_slots_) keep.insert(s);
  for (size_t s = 0; s < last_use.size(); ++s)
    if (last_use[s] >= 0 && !keep.count((int)s)) plan->steps_[last_use[s]].frees.push_back((int)s);
  return plan;
}

std::shared_ptr<Buffer> BufferPool::get(size_t bytes) {
  auto it = free_.lower_bound(bytes);
  if (it != free_.end() && it->first <= bytes * 2 + 4096) {
    auto b = std::move(it->second);
    free_.erase(it);
    return b;
  }
  std::shared_ptr<Buffer> buffer = bytes == SIZE_MAX ? nullptr : Buffer::allocate(bytes);
  if (!buffer) throw OutOfMemory(bytes);
  return buffer;
}

void BufferPool::put(std::shared_ptr<Buffer> buffer) {
  size_t cap = buffer->bytes();
  free_.emplace(cap, std::move(buffer));
}

namespace {

class StepContext final : public KernelContext, public SubgraphRunner {
 public:
  StepContext(const ExecutionPlan::Step& step, std::vector<Value>& slots, ExecutionContext& ec,
              const ExecutionContext::OuterLookup& lookup)
      : step_(step), slots_(slots), ec_(ec), lookup_(lookup) {}

  int num_inputs() const override { return (int)step_.node->inputs.size(); }
  const Tensor* input(int i) const override {
    const Value* v = input_value(i);
    return v && v->is_tensor() ? &v->tensor() : nullptr;
  }
  const Value* input_value(int i) const override {
    if (i < 0 || i >= num_inputs()) return nullptr;
    int s = step_.inputs[i];
    return s < 0 || !slots_[s].defined() ? nullptr : &slots_[s];
  }
  // ERR_TYPE for an input the kernel does not take (its type was unknown at load).
  Status check_inputs() const {
    for (int i = 0; i < num_inputs(); ++i) {
      const Value* v = input_value(i);
      if (v) HS_RETURN_IF_ERROR(check_kernel_takes(*step_.node, *step_.kernel, (size_t)i, v->kind(), v->tensor().dtype()));
    }
    return Status::ok();
  }
  int num_outputs() const override { return (int)step_.outputs.size(); }
  Tensor* output(int i, DType dtype, const Shape& shape) override {
    // String tensors hold std::string objects, never pooled bytes.
    Tensor t = dtype == DType::kString
                   ? Tensor::empty(dtype, shape)
                   : Tensor(dtype, shape, ec_.buffers().get(tensor_bytes(dtype, shape)));
    int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s < 0) {  // the model does not use this output: the kernel writes it to a scratch tensor
      Tensor& sink = unused_outputs_[i];
      sink = std::move(t);
      return &sink;
    }
    slots_[s] = std::move(t);
    return slots_[s].mutable_tensor();
  }
  void set_output(int i, Tensor tensor) override { set_output_value(i, Value(std::move(tensor))); }
  void set_output_value(int i, Value value) override {
    int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s >= 0) slots_[s] = std::move(value);
  }
  bool output_wanted(int i) const override { return i < num_outputs() && step_.outputs[i] >= 0; }
  ThreadPool& pool() const override { return ec_.pool(); }
  SubgraphRunner* subgraphs() const override { return const_cast<StepContext*>(this); }

  Status run(const std::string& attr, const std::vector<Value>& inputs, std::vector<Value>* outputs) override {
    auto it = step_.subplans.find(attr);
    if (it == step_.subplans.end())
      return Status(StatusCode::kInvalidModel, str_cat(step_.node->describe(), " has no graph attribute '", attr, "'"));
    ExecutionContext child(it->second, &ec_.pool());
    return child.run(inputs, outputs, [this](const std::string& name) { return resolve(name); });
  }

  const ExecutionPlan* plan_of_step_ = nullptr;
  const std::map<std::string, int>* names_ = nullptr;

 private:
  const Value* resolve(const std::string& name) const {
    auto it = names_->find(name);
    if (it != names_->end() && slots_[it->second].defined()) return &slots_[it->second];
    return lookup_ ? lookup_(name) : nullptr;
  }
  const ExecutionPlan::Step& step_;
  std::vector<Value>& slots_;
  ExecutionContext& ec_;
  const ExecutionContext::OuterLookup& lookup_;
  std::map<int, Tensor> unused_outputs_;  // one per output index: a kernel may write several at once
};

}  // namespace

ExecutionContext::ExecutionContext(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool)
    : plan_(std::move(plan)), pool_(pool) {}

Status ExecutionContext::run(const std::vector<Value>& inputs, std::vector<Value>* outputs,
                             const OuterLookup& outer) {
  const ExecutionPlan& plan = *plan_;
  if (inputs.size() != plan.input_slots().size())
    return Status(StatusCode::kInvalidArgument,
                  str_cat("expected ", plan.input_slots().size(), " inputs, got ", inputs.size()));
  std::vector<Value> slots(plan.num_slots());
  for (auto& [s, t] : plan.constant_slots()) slots[s] = t;
  for (size_t i = 0; i < inputs.size(); ++i) slots[plan.input_slots()[i]] = inputs[i];
  for (auto& [s, name] : plan.outer_slots()) {
    const Value* t = outer ? outer(name) : nullptr;
    if (!t) return Status(StatusCode::kInvalidModel, str_cat("outer value '", name, "' is not available"));
    slots[s] = *t;
  }
  // Names for subgraph lookups, built only when a step has subgraphs.
  std::map<std::string, int> names;
  for (size_t i = 0; i < plan.steps().size(); ++i) {
    const ExecutionPlan::Step& step = plan.steps()[i];
    if (!step.subplans.empty() && names.empty())
      for (int s = 0; s < plan.num_slots(); ++s) names[plan.slot_name(s)] = s;
    const auto started = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    StepContext ctx(step, slots, *this, outer);
    ctx.plan_of_step_ = &plan;
    ctx.names_ = &names;
    Status st = ctx.check_inputs();
    if (st.is_ok()) st = run_kernel(*step.kernel, ctx);
    if (!st.is_ok()) return Status(st.code(), str_cat(step.node->describe(), ": ", st.message()));
    if (profile_) {
      profile_->add(i, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
      std::vector<const Shape*> shapes;
      for (int s : step.inputs)
        if (s >= 0 && slots[s].is_tensor()) shapes.push_back(&slots[s].tensor().shape());
      profile_->note_shapes(i, shapes);
    }
    for (int s : step.frees) {
      auto buffer = slots[s].tensor().buffer();
      slots[s] = Value();
      if (buffer && buffer.use_count() == 1) buffers_.put(std::move(buffer));
    }
  }
  outputs->clear();
  for (int s : plan.output_slots()) {
    if (!slots[s].defined())
      return Status(StatusCode::kInternal, str_cat("output '", plan.slot_name(s), "' was not computed"));
    outputs->push_back(slots[s]);
  }
  return Status::ok();
}

}  // namespace hs
