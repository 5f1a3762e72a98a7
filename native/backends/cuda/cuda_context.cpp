#include "backends/cuda/cuda_context.h"

#include <cstdlib>
#include <cstring>

#include "backends/cuda/device_memory.h"
#include "backends/cuda/device_values.h"
#include "backends/cuda/host_step.h"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

// The device side of one step's inputs and outputs.
class DeviceStepContext final : public CudaKernelContext {
 public:
  DeviceStepContext(const ExecutionPlan::Step& step, DeviceValues& values, cudaStream_t stream, int* error_flag)
      : step_(step), values_(values), stream_(stream), error_flag_(error_flag) {}

  // Moves every input to where the kernel reads it.
  Status bind_inputs(const CudaOpKernel& kernel) {
    std::vector<int> host;
    for (int i = 0; i < num_inputs(); ++i) {
      const int s = step_.inputs[i];
      if (s < 0) continue;
      const CudaOpKernel::Access access = kernel.input_access(i);
      if (access == CudaOpKernel::Access::kMetadata) continue;
      if (access == CudaOpKernel::Access::kHost) host.push_back(s);
      else HS_RETURN_IF_ERROR(values_.to_device(s, str_cat("input ", i, " ('", step_.node->inputs[i], "')")));
    }
    return values_.to_host_all(host);
  }

  int num_inputs() const override { return (int)step_.node->inputs.size(); }
  const DeviceTensor* input(int i) const override {
    if (i < 0 || i >= num_inputs() || step_.inputs[i] < 0) return nullptr;
    Slot& slot = values_[step_.inputs[i]];
    return slot.on_device ? &slot.device : nullptr;
  }
  const Tensor* host_input(int i) const override {
    if (i < 0 || i >= num_inputs() || step_.inputs[i] < 0) return nullptr;
    Slot& slot = values_[step_.inputs[i]];
    return slot.on_host && slot.host.is_tensor() ? &slot.host.tensor() : nullptr;
  }
  int num_outputs() const override { return (int)step_.outputs.size(); }
  bool output_wanted(int i) const override { return i < num_outputs() && step_.outputs[i] >= 0; }
  Result<DeviceTensor*> output(int i, DType dtype, const Shape& shape) override {
    auto t = values_.allocate(dtype, shape);
    if (!t.is_ok()) return t.status();
    const int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s < 0) {
      DeviceTensor& sink = unused_[i];
      sink = t.take();
      return &sink;
    }
    set_output(i, t.take());
    return &values_[s].device;
  }
  // A value is written once per run; a metadata kernel may set both sides of it.
  void set_output(int i, DeviceTensor view) override {
    const int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s < 0) return;
    values_[s].device = std::move(view);
    values_[s].on_device = true;
  }
  void set_host_output(int i, Tensor tensor) override {
    const int s = i < num_outputs() ? step_.outputs[i] : -1;
    if (s < 0) return;
    values_[s].host = Value(std::move(tensor));
    values_[s].on_host = true;
  }
  Result<void*> scratch(size_t bytes) override {
    auto t = values_.allocate(DType::kUint8, {(int64_t)bytes});
    if (!t.is_ok()) return t.status();
    scratch_.push_back(t.value().owner);
    return t.value().data;
  }
  cudaStream_t stream() const override { return stream_; }
  int* error_flag() const override { return error_flag_; }

 private:
  const ExecutionPlan::Step& step_;
  DeviceValues& values_;
  cudaStream_t stream_;
  int* error_flag_;
  std::map<int, DeviceTensor> unused_;
  std::vector<std::shared_ptr<void>> scratch_;  // returned to the arena when the step is done
};

}  // namespace

Result<std::unique_ptr<CudaContext>> CudaContext::create(std::shared_ptr<const CudaPlan> plan, ThreadPool* pool,
                                                        bool cuda_graphs, bool profile) {
  std::unique_ptr<CudaContext> ctx(new CudaContext());
  ctx->plan_ = std::move(plan);
  ctx->pool_ = pool;
  if (cuda_graphs && ctx->plan_->graphable()) ctx->graphs_ = std::make_unique<GraphCache>(kMaxGraphs);
  const char* poison = std::getenv("HS_CUDA_POISON");
  ctx->poison_ = poison && std::strcmp(poison, "1") == 0;
  HS_CUDA_CHECK(cudaSetDevice(ctx->plan_->device()));
  HS_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx->stream_, cudaStreamNonBlocking));
  HS_CUDA_CHECK(device_alloc(reinterpret_cast<void**>(&ctx->error_flag_), sizeof(int)));
  HS_CUDA_CHECK(pinned_alloc(reinterpret_cast<void**>(&ctx->error_host_), sizeof(int)));
  const ExecutionPlan& p = ctx->plan_->plan();
  for (int s = 0; s < p.num_slots(); ++s) ctx->slot_of_[p.slot_name(s)] = s;
  if (profile) {
    ctx->profile_ = std::make_unique<NodeProfile>(p.steps().size());
    for (size_t i = 0; i <= p.steps().size(); ++i) {
      cudaEvent_t event = nullptr;
      HS_CUDA_CHECK(cudaEventCreate(&event));
      ctx->step_events_.push_back(event);
    }
  }
  return ctx;
}

CudaContext::~CudaContext() {
  if (plan_) cudaSetDevice(plan_->device());
  if (stream_) cudaStreamSynchronize(stream_);
  graphs_.reset();
  arena_.trim();
  staging_.trim();
  device_free(error_flag_, sizeof(int));
  pinned_free(error_host_, sizeof(int));
  for (cudaEvent_t event : step_events_) cudaEventDestroy(event);
  if (stream_) cudaStreamDestroy(stream_);
}

RunStats CudaContext::stats() const {
  RunStats s{runs_.load(), uploads_.load(), downloads_.load()};
  s.graph_captures = graph_captures_.load();
  s.graph_replays = graph_replays_.load();
  return s;
}

void CudaContext::trim() {
  if (graphs_) graphs_->clear();  // their addresses are in the arena
  arena_.trim();
  staging_.trim();
}

Status CudaContext::run(const std::vector<Value>& inputs, std::vector<Value>* outputs) {
  HS_CUDA_CHECK(cudaSetDevice(plan_->device()));
  arena_.begin_run();
  Status st;
  bool ran = false;
  CapturedGraph* graph = graphs_ ? &graphs_->get(GraphCache::key_of(inputs)) : nullptr;
  if (graph && graph->exec && (graph->arena_base != arena_.base() || graph->arena_capacity != arena_.capacity()))
    GraphCache::reset(*graph);  // the arena moved since the capture
  // A shape is captured on its second run, when the arena has grown to what it needs.
  if (graph && !graph->uncapturable && (graph->exec || graph->eager_runs > 0)) st = run_graph(*graph, inputs, outputs, &ran);
  if (!ran) {
    if (graph) arena_.begin_run();  // a failed capture or replay attempt enqueued nothing that matters
    st = run_steps(inputs, outputs);
    if (graph && st.is_ok()) ++graph->eager_runs;
  }
  // Whatever happened, the stream must be idle before its buffers are reused.
  const cudaError_t err = cudaStreamSynchronize(stream_);
  if (st.is_ok() && err != cudaSuccess) st = cuda_status(err, "cudaStreamSynchronize", __FILE__, __LINE__);
  if (st.is_ok() && profile_) st = add_step_times();
  staging_.reset();
  return st;
}

Status CudaContext::add_step_times() {
  for (size_t i = 0; i + 1 < step_events_.size(); ++i) {
    float ms = 0;
    HS_CUDA_CHECK(cudaEventElapsedTime(&ms, step_events_[i], step_events_[i + 1]));
    profile_->add(i, (int64_t)(ms * 1e6));
  }
  return Status::ok();
}

void CudaContext::collect_profile(std::vector<StepTime>* into, bool reset) {
  if (profile_) profile_->collect(into, reset);
}

Status CudaContext::bind(DeviceValues& values, const std::vector<Value>& inputs) {
  const ExecutionPlan& plan = plan_->plan();
  if (inputs.size() != plan.input_slots().size())
    return Status(StatusCode::kInvalidArgument, str_cat("expected ", plan.input_slots().size(), " inputs, got ", inputs.size()));
  values.reset(plan.num_slots());
  for (auto& [s, t] : plan.constant_slots()) {
    values[s].host = t;
    values[s].on_host = true;
    if (const DeviceTensor* w = plan_->weight(s)) {
      values[s].device = *w;
      values[s].on_device = true;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int s = plan.input_slots()[i];
    values.release(s);  // a fed input replaces an initializer's default
    values[s].host = inputs[i];
    values[s].on_host = true;
  }
  HS_CUDA_CHECK(cudaMemsetAsync(error_flag_, 0, sizeof(int), stream_));
  return Status::ok();
}

Status CudaContext::enqueue_steps(DeviceValues& values) {
  const auto& steps = plan_->plan().steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    const ExecutionPlan::Step& step = steps[i];
    if (profile_) HS_CUDA_CHECK(cudaEventRecord(step_events_[i], stream_));
    Status st;
    if (const CudaOpKernel* kernel = plan_->kernel(i)) {
      DeviceStepContext ctx(step, values, stream_, error_flag_);
      st = ctx.bind_inputs(*kernel);
      if (st.is_ok()) st = run_kernel(*kernel, ctx);
    } else {
      st = run_host_step(step, values, slot_of_, *pool_);
    }
    if (!st.is_ok()) return Status(st.code(), str_cat(step.node->describe(), ": ", st.message()));
    if (profile_) {
      std::vector<const Shape*> shapes;
      for (int s : step.inputs) {
        if (s < 0) continue;
        const Slot& slot = values[s];
        if (slot.on_device) shapes.push_back(&slot.device.shape);
        else if (slot.on_host && slot.host.is_tensor()) shapes.push_back(&slot.host.tensor().shape());
      }
      profile_->note_shapes(i, shapes);
    }
    for (int s : step.frees) values.release(s);
  }
  if (profile_) HS_CUDA_CHECK(cudaEventRecord(step_events_[steps.size()], stream_));
  return Status::ok();
}

Status CudaContext::finish(DeviceValues& values, std::vector<Value>* outputs) {
  const ExecutionPlan& plan = plan_->plan();
  HS_CUDA_CHECK(cudaMemcpyAsync(error_host_, error_flag_, sizeof(int), cudaMemcpyDeviceToHost, stream_));
  HS_RETURN_IF_ERROR(values.to_host_all(plan.output_slots()));
  HS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (*error_host_)
    return Status(StatusCode::kInvalidArgument, "an index input was out of range for its axis (Gather)");
  outputs->clear();
  for (int s : plan.output_slots()) {
    if (!values[s].on_host || !values[s].host.defined())
      return Status(StatusCode::kInternal, str_cat("output '", plan.slot_name(s), "' was not computed"));
    outputs->push_back(values[s].host);
  }
  ++runs_;
  uploads_ += values.uploads();
  downloads_ += values.downloads();
  return Status::ok();
}

Status CudaContext::run_steps(const std::vector<Value>& inputs, std::vector<Value>* outputs) {
  DeviceValues values(arena_, staging_, stream_, poison_);
  HS_RETURN_IF_ERROR(bind(values, inputs));
  HS_RETURN_IF_ERROR(enqueue_steps(values));
  return finish(values, outputs);
}

Status CudaContext::run_graph(CapturedGraph& graph, const std::vector<Value>& inputs, std::vector<Value>* outputs,
                              bool* ran) {
  *ran = false;
  const ExecutionPlan& plan = plan_->plan();
  DeviceValues values(arena_, staging_, stream_, poison_);
  HS_RETURN_IF_ERROR(bind(values, inputs));
  // The inputs go up before the captured work, so that their addresses are the same on a replay.
  std::vector<void*> addresses;
  for (int s : plan_->device_input_slots()) {
    HS_RETURN_IF_ERROR(values.to_device(s, str_cat("input '", plan.slot_name(s), "'")));
    addresses.push_back(values[s].on_device ? values[s].device.data : nullptr);
  }
  if (graph.exec) {
    if (addresses != graph.input_addresses) {
      GraphCache::reset(graph);
      return Status::ok();
    }
    for (auto& [s, slot] : graph.outputs) values[s] = slot;
    HS_CUDA_CHECK(cudaGraphLaunch(graph.exec, stream_));
    ++graph_replays_;
  } else {
    HS_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    const Status st = enqueue_steps(values);
    cudaGraph_t captured = nullptr;
    const cudaError_t end = cudaStreamEndCapture(stream_, &captured);
    cudaGraphExec_t exec = nullptr;
    const bool ok = st.is_ok() && end == cudaSuccess && captured && !arena_.overflowed() &&
                    cudaGraphInstantiate(&exec, captured, 0) == cudaSuccess;
    if (captured) cudaGraphDestroy(captured);
    if (!ok) {
      cudaGetLastError();  // capture errors are not sticky; the run goes again without a graph
      // Overflow blocks (which cannot be allocated while capturing) go once the arena has grown;
      // any other failure will not.
      if (!arena_.overflowed()) graph.uncapturable = true;
      return Status::ok();
    }
    graph.exec = exec;
    graph.arena_base = arena_.base();
    graph.arena_capacity = arena_.capacity();
    graph.input_addresses = addresses;
    std::vector<bool> bound(plan.num_slots(), false);
    for (int s : plan.input_slots()) bound[s] = true;
    for (auto& [s, t] : plan.constant_slots()) bound[s] = true;
    for (int s : plan.output_slots()) {
      if (bound[s]) continue;  // bound again by every run
      Slot slot = values[s];
      slot.device.owner = nullptr;  // the replay reuses the captured addresses
      graph.outputs.emplace_back(s, std::move(slot));
    }
    HS_CUDA_CHECK(cudaGraphLaunch(graph.exec, stream_));
    ++graph_captures_;
  }
  *ran = true;
  return finish(values, outputs);
}

}  // namespace hs::cuda
