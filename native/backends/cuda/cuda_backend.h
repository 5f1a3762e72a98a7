// The CUDA backend's entry points (only built with CUDA): the Engine's (core/engine.cpp) places the
// plan on device 0 and makes `streams` contexts. Plain C++: no CUDA headers.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/engine_backend.h"
#include "core/execution_plan.h"

namespace hs::cuda {

struct Backend {
  BackendReport report;
  std::vector<std::unique_ptr<RunContext>> contexts;
};

Result<Backend> create_backend(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool, int streams,
                               const std::string& precision, bool cuda_graphs, bool profile);

// Where the CUDA backend would run each node of `plan`, and the copies a run would make; needs no
// device (for tests and `highservice info` on machines without one).
BackendReport placement(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool);

}  // namespace hs::cuda
