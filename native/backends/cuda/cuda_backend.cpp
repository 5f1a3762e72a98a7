#include "backends/cuda/cuda_backend.h"

#include "backends/cuda/cuda_context.h"
#include "hs/devices.h"

namespace hs::cuda {

Result<Backend> create_backend(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool, int streams,
                               const std::string& precision, bool cuda_graphs, bool profile) {
  const CudaInfo& info = cuda_info();
  if (!info.available || info.devices.empty())
    return Status(StatusCode::kCudaUnavailable, str_cat("device 'cuda' was requested: ", info.reason));
  auto cuda_plan = CudaPlan::create(std::move(plan), info.devices[0].index, *pool, precision);
  if (!cuda_plan.is_ok()) return cuda_plan.status();
  Backend backend;
  backend.report = cuda_plan.value()->report();
  for (int i = 0; i < streams; ++i) {
    auto ctx = CudaContext::create(cuda_plan.value(), pool, cuda_graphs, profile);
    if (!ctx.is_ok()) return ctx.status();
    backend.contexts.push_back(ctx.take());
  }
  return backend;
}

BackendReport placement(std::shared_ptr<const ExecutionPlan> plan, ThreadPool* pool) {
  return CudaPlan::placement(std::move(plan), *pool);
}

}  // namespace hs::cuda
