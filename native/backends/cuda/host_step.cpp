#include "backends/cuda/host_step.h"

#include <map>

#include "core/value_types.h"

namespace hs::cuda {
namespace {

class HostStepContext final : public KernelContext, public SubgraphRunner {
 public:
  HostStepContext(const ExecutionPlan::Step& step, DeviceValues& values, const std::map<std::string, int>& slot_of,
                  ThreadPool& pool)
      : step_(step), values_(values), slot_of_(slot_of), pool_(pool) {}

  int num_inputs() const override { return (int)step_.node->inputs.size(); }
  const Tensor* input(int i) const override {
    const Value* v = input_value(i);
    return v && v->is_tensor() ? &v->tensor() : nullptr;
  }
  const Value* input_value(int i) const override {
    if (i < 0 || i >= num_inputs() || step_.inputs[i] < 0) return nullptr;
    Slot& slot = values_[step_.inputs[i]];
    return slot.on_host && slot.host.defined() ? &slot.host : nullptr;
  }
  int num_outputs() const override { return (int)step_.outputs.size(); }
  Tensor* output(int i, DType dtype, const Shape& shape) override {
    Tensor t = Tensor::empty(dtype, shape);
    const int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s < 0) {
      Tensor& sink = unused_[i];
      sink = std::move(t);
      return &sink;
    }
    set_output_value(i, Value(std::move(t)));
    return values_[s].host.mutable_tensor();
  }
  void set_output(int i, Tensor tensor) override { set_output_value(i, Value(std::move(tensor))); }
  void set_output_value(int i, Value value) override {
    const int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s < 0) return;
    values_.release(s);
    values_[s].host = std::move(value);
    values_[s].on_host = true;
  }
  bool output_wanted(int i) const override { return i < num_outputs() && step_.outputs[i] >= 0; }
  ThreadPool& pool() const override { return pool_; }
  SubgraphRunner* subgraphs() const override { return const_cast<HostStepContext*>(this); }

  Status run(const std::string& attr, const std::vector<Value>& inputs, std::vector<Value>* outputs) override {
    auto it = step_.subplans.find(attr);
    if (it == step_.subplans.end())
      return Status(StatusCode::kInvalidModel, str_cat(step_.node->describe(), " has no graph attribute '", attr, "'"));
    ExecutionContext child(it->second, &pool_);
    return child.run(inputs, outputs, [this](const std::string& name) -> const Value* {
      auto s = slot_of_.find(name);
      if (s == slot_of_.end()) return nullptr;
      Slot& slot = values_[s->second];
      return slot.on_host && slot.host.defined() ? &slot.host : nullptr;
    });
  }

  Status check_inputs() const {
    for (int i = 0; i < num_inputs(); ++i) {
      const Value* v = input_value(i);
      if (v) HS_RETURN_IF_ERROR(check_kernel_takes(*step_.node, *step_.kernel, (size_t)i, v->kind(), v->tensor().dtype()));
    }
    return Status::ok();
  }

 private:
  const ExecutionPlan::Step& step_;
  DeviceValues& values_;
  const std::map<std::string, int>& slot_of_;
  ThreadPool& pool_;
  std::map<int, Tensor> unused_;
};

}  // namespace

Status run_host_step(const ExecutionPlan::Step& step, DeviceValues& values, const std::map<std::string, int>& slot_of,
                     ThreadPool& pool) {
  std::vector<int> needed;
  for (int s : step.inputs) if (s >= 0) needed.push_back(s);  // includes the subgraphs' outer reads
  HS_RETURN_IF_ERROR(values.to_host_all(needed));
  HostStepContext ctx(step, values, slot_of, pool);
  HS_RETURN_IF_ERROR(ctx.check_inputs());
  return run_kernel(*step.kernel, ctx);
}

}  // namespace hs::cuda
