#include "engine.h"

#include <atomic>
#include <exception>
#include <new>

#include "hs/devices.h"
#if HS_WITH_CUDA
#include "backends/cuda/cuda_backend.h"
#endif

namespace hs {
namespace {

class CpuRunContext final : public RunContext {
 public:
  CpuRunContext(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool, bool profile)
      : profile_(profile ? std::make_unique<NodeProfile>(plan->steps().size()) : nullptr), ctx_(std::move(plan), pool) {
    ctx_.set_profile(profile_.get());
  }
  Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs) override {
    Status st = ctx_.run(inputs, outputs);
    if (st.is_ok()) ++runs_;
    return st;
  }
  void trim() override { ctx_.trim(); }
  RunStats stats() const override { return RunStats{runs_.load(), 0, 0}; }
  void collect_profile(std::vector<StepTime>* into, bool reset) override {
    if (profile_) profile_->collect(into, reset);
  }

 private:
  std::unique_ptr<NodeProfile> profile_;
  ExecutionContext ctx_;
  std::atomic<int64_t> runs_{0};
};

}  // namespace

Result<std::shared_ptr<Engine>> Engine::create(std::shared_ptr<const Graph> graph, const EngineOptions& options) {
  if (options.streams < 1 || options.streams > 64)
    return Status(StatusCode::kInvalidArgument, str_cat("streams must be in [1, 64], got ", options.streams));
  if (options.threads < 0 || options.threads > 1024)
    return Status(StatusCode::kInvalidArgument, str_cat("threads must be in [0, 1024], got ", options.threads));
  if (options.device != "cpu" && options.device != "cuda" && options.device != "auto")
    return Status(StatusCode::kInvalidArgument, str_cat("device must be 'cpu', 'cuda' or 'auto', got '", options.device, "'"));
  if (options.device == "cuda" && !cuda_info().available)
    return Status(StatusCode::kCudaUnavailable, str_cat("device 'cuda' was requested: ", cuda_info().reason));
  // Every node gets its CPU kernel: the CUDA backend falls back to it for nodes it cannot run.
  auto plan = ExecutionPlan::create(graph, graph->opsets);
  if (!plan.is_ok()) return plan.status();
  auto engine = std::shared_ptr<Engine>(new Engine());
  engine->graph_ = std::move(graph);
  engine->plan_ = plan.take();
  // Idle workers poll 200 us: the parallel regions of one inference follow each other closely, and
  // a wake-up from sleep costs 20-40 us per region here (bench/kernels/thread_pool_bench.cpp).
  constexpr int kSpinUs = 200;
  engine->pool_ = std::make_unique<ThreadPool>(options.threads ? options.threads : ThreadPool::default_threads(),
                                               options.spin ? kSpinUs : 0);
  if (options.device == "auto" && !cuda_info().available) engine->backend_.fallback_reason = cuda_info().reason;
  if (options.device == "cuda" || (options.device == "auto" && cuda_info().available)) {
#if HS_WITH_CUDA
    auto backend = cuda::create_backend(engine->plan_, engine->pool_.get(), options.streams, options.precision,
                                        options.cuda_graphs && !options.profile, options.profile);
    if (!backend.is_ok()) return backend.status();
    const auto& cpu_nodes = backend.value().report.cpu_nodes;
    if (options.device == "auto" && !cpu_nodes.empty()) {
      engine->backend_.fallback_reason = str_cat(cpu_nodes.size(), " node(s) have no CUDA kernel, e.g. ",
                                                 cpu_nodes[0].node, ": ", cpu_nodes[0].reason);
    } else {
      engine->backend_ = backend.value().report;
      engine->contexts_ = std::move(backend.value().contexts);
    }
#endif
  }
  if (engine->contexts_.empty()) {
    for (int i = 0; i < options.streams; ++i)
      engine->contexts_.push_back(std::make_unique<CpuRunContext>(engine->plan_, engine->pool_.get(), options.profile));
  }
  for (auto& ctx : engine->contexts_) engine->free_.push_back(ctx.get());
  // The dispatch threads poll 1 ms after a run, longer than the pool's workers: back-to-back
  // requests to a server over loopback come ~0.3-0.6 ms apart here, and a submit to a polling
  // thread saves the JS thread the futex wake (~25 us) and the request the wake-up latency
  // (serving-bench hs-1proc at c=1: p50 0.66-0.81 -> 0.54-0.60 ms against a 200 us poll).
  constexpr int kDispatchSpinUs = 1000;
  engine->dispatch_ = std::make_unique<WorkQueue>((int)engine->contexts_.size(), options.spin ? kDispatchSpinUs : 0);
  return engine;
}

namespace {

// ERR_TYPE / ERR_SHAPE when `t` (the input itself, or a tensor inside it: `what` says which)
// does not match the declared dtype and fixed dimensions.
Status check_tensor(const ValueInfo& vi, const Tensor& t, const std::string& what) {
  if (vi.dtype != DType::kUndefined && t.dtype() != vi.dtype)
    return Status(StatusCode::kType, str_cat(what, " must be ", dtype_name(vi.dtype), ", got ", dtype_name(t.dtype())));
  if (!vi.has_shape) return Status::ok();
  if ((size_t)t.rank() != vi.dims.size())
    return Status(StatusCode::kShape, str_cat(what, " must have rank ", vi.dims.size(), ", got shape ", t.shape()));
  for (size_t d = 0; d < vi.dims.size(); ++d)
    if (vi.dims[d].value >= 0 && vi.dims[d].value != t.shape()[d])
      return Status(StatusCode::kShape, str_cat(what, " dimension ", d, " must be ", vi.dims[d].value, ", got shape ",
                                                t.shape()));
  return Status::ok();
}

}  // namespace

Status Engine::check_inputs(const std::vector<Value>& inputs) const {
  const auto& decl = graph_->inputs;
  if (inputs.size() != decl.size())
    return Status(StatusCode::kInvalidArgument, str_cat("expected ", decl.size(), " inputs, got ", inputs.size()));
  for (size_t i = 0; i < decl.size(); ++i) {
    const ValueInfo& vi = decl[i];
    const Value& v = inputs[i];
    const std::string what = str_cat("input '", vi.name, "'");
    if (!v.defined() || v.kind() != vi.kind)
      return Status(StatusCode::kType, str_cat(what, " must be a ", value_kind_name(vi.kind), ", got a ",
                                               v.defined() ? value_kind_name(v.kind()) : "missing value"));
    if (is_optional(vi.kind) && !v.has_element()) continue;
    if (v.kind() == ValueKind::kTensor || v.kind() == ValueKind::kOptionalTensor) {
      HS_RETURN_IF_ERROR(check_tensor(vi, v.tensor(), what));
      continue;
    }
    for (size_t k = 0; k < v.items().size(); ++k)
      HS_RETURN_IF_ERROR(check_tensor(vi, v.items()[k], str_cat(what, " item ", k)));
  }
  return Status::ok();
}

Status Engine::run(const std::vector<Value>& inputs, std::vector<Value>* outputs) {
  HS_RETURN_IF_ERROR(check_inputs(inputs));
  RunContext* ctx;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !free_.empty(); });
    ctx = free_.back();
    free_.pop_back();
  }
  Status st = ctx->run(inputs, outputs);
  if (!st.is_ok()) ctx->trim();
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(ctx);
  }
  cv_.notify_one();
  return st;
}

void Engine::run_async(std::vector<Value> inputs, RunDone done) {
  dispatch_->submit([this, inputs = std::move(inputs), done = std::move(done)]() mutable {
    std::vector<Value> outputs;
    Status st;
    try {
      st = run(inputs, &outputs);
    } catch (const std::bad_alloc& e) {
      st = Status(StatusCode::kOutOfMemory, e.what());
    } catch (const std::exception& e) {  // nothing may escape a dispatch thread
      st = Status(StatusCode::kInternal, e.what());
    }
    inputs.clear();
    done(std::move(st), std::move(outputs));
  });
}

RunStats Engine::stats() const {
  RunStats total;
  for (const auto& ctx : contexts_) {
    const RunStats s = ctx->stats();
    total.runs += s.runs;
    total.host_to_device += s.host_to_device;
    total.device_to_host += s.device_to_host;
    total.graph_captures += s.graph_captures;
    total.graph_replays += s.graph_replays;
  }
  return total;
}

std::vector<StepTime> Engine::profile(bool reset) {
  std::vector<StepTime> times(plan_->steps().size());
  for (auto& ctx : contexts_) ctx->collect_profile(&times, reset);
  return times;
}

}  // namespace hs
