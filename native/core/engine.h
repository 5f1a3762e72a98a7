// Engine: an optimised graph made into an ExecutionPlan, the weights held once, and N execution
// contexts (the `streams` option) that run concurrently; run() takes a free context and blocks its
// (native worker) caller until one is free. The contexts belong to the backend of `device`: the
// CPU's ExecutionContexts, or CUDA contexts (streams, device arenas) when built with CUDA.
#pragma once
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine_backend.h"
#include "execution_plan.h"
#include "hs/graph.h"
#include "work_queue.h"

namespace hs {

struct EngineOptions {
  int threads = 0;   // 0: the machine's core count
  int streams = 1;   // execution contexts
  bool spin = true;  // idle pool threads poll briefly before sleeping (see ThreadPool)
  // "cpu" | "cuda" | "auto" (CUDA when a device is present and every node has a CUDA kernel,
  // else the CPU, with BackendReport::fallback_reason saying why).
  std::string device = "cpu";
  // "fp32" | "fp16" | "bf16": on CUDA, reduced precision lets hs:Attention run FlashAttention and
  // GEMMs/convolutions run with 16-bit weights on tensor cores (fp32 accumulation, float32
  // activations between nodes); everything else computes in float32.
  std::string precision = "fp32";
  // CUDA: capture and replay CUDA graphs per input shape (cuda_context.h).
  bool cuda_graphs = true;
  // Time every step of every run (Engine::profile). On CUDA each step is timed between events on
  // the stream, and runs go without CUDA graphs.
  bool profile = false;
};

class Engine {
 public:
  // `graph` must already be optimised (optimize_graph) or loaded from the plan cache.
  static Result<std::shared_ptr<Engine>> create(std::shared_ptr<const Graph> graph, const EngineOptions& options);

  const std::vector<ValueInfo>& inputs() const { return graph_->inputs; }
  const std::vector<ValueInfo>& outputs() const { return graph_->outputs; }
  const Graph& graph() const { return *graph_; }
  int streams() const { return (int)contexts_.size(); }
  int threads() const { return pool_->parallelism(); }
  const BackendReport& backend() const { return backend_; }
  // Runs completed so far and the host<->device copies they made, over every context.
  RunStats stats() const;
  const ExecutionPlan& plan() const { return *plan_; }
  // The time each of plan().steps() took over every context's runs (all zero without
  // EngineOptions::profile); `reset` starts the counts again.
  std::vector<StepTime> profile(bool reset);

  // Inputs in the order of inputs(); checked against the declared kinds, dtypes and fixed
  // dimensions (of the tensors inside sequences and optionals too).
  Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs);
  // run() on one of the engine's own threads (one per context), then done(status, outputs) there.
  // The caller keeps the Engine alive until done has been called, and done must not destroy it.
  using RunDone = std::function<void(Status, std::vector<Value>)>;
  void run_async(std::vector<Value> inputs, RunDone done);

 private:
  Status check_inputs(const std::vector<Value>& inputs) const;

  std::shared_ptr<const Graph> graph_;
  std::shared_ptr<const ExecutionPlan> plan_;
  std::unique_ptr<ThreadPool> pool_;
  BackendReport backend_;
  // The pool outlives the contexts (declared first, destroyed last): CPU nodes run on it.
  std::vector<std::unique_ptr<RunContext>> contexts_;
  std::vector<RunContext*> free_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Declared last, destroyed first: its threads finish their jobs while the contexts still exist.
  std::unique_ptr<WorkQueue> dispatch_;
};

}  // namespace hs
