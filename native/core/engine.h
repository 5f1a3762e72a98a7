// Engine: an optimised graph made into an ExecutionPlan, the weights held once, and N execution
// contexts (the `streams` option) that run concurrently; run() takes a free context and blocks its
// (native worker) caller until one is free.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "execution_plan.h"
#include "hs/graph.h"

namespace hs {

struct EngineOptions {
  int threads = 0;   // 0: the machine's core count
  int streams = 1;   // execution contexts
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

  // Inputs in the order of inputs(); checked against the declared kinds, dtypes and fixed
  // dimensions (of the tensors inside sequences and optionals too).
  Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs);

 private:
  Status check_inputs(const std::vector<Value>& inputs) const;

  std::shared_ptr<const Graph> graph_;
  std::shared_ptr<const ExecutionPlan> plan_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<std::unique_ptr<ExecutionContext>> contexts_;
  std::vector<ExecutionContext*> free_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace hs
