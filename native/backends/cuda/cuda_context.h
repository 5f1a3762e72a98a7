// CudaContext: one execution context of the CUDA backend. It owns a stream (uploads, kernels and
// downloads of its runs are queued there, so contexts overlap), a device arena for activations,
// pinned staging buffers and a device error flag. A run binds the inputs on the host, walks the
// plan (device steps enqueue kernels; CPU steps download what they read), downloads the outputs and
// waits once. Any failure leaves the stream idle and the context usable.
#pragma once
#include <cuda_runtime_api.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "backends/cuda/cuda_plan.h"
#include "backends/cuda/device_arena.h"
#include "backends/cuda/pinned_staging.h"
#include "core/engine_backend.h"

namespace hs::cuda {

class CudaContext final : public RunContext {
 public:
  static Result<std::unique_ptr<CudaContext>> create(std::shared_ptr<const CudaPlan> plan, ThreadPool* pool);
  ~CudaContext() override;

  Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs) override;
  void trim() override;
  RunStats stats() const override { return RunStats{runs_.load(), uploads_.load(), downloads_.load()}; }

 private:
  CudaContext() = default;
  Status run_steps(const std::vector<Value>& inputs, std::vector<Value>* outputs);

  std::shared_ptr<const CudaPlan> plan_;
  ThreadPool* pool_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int* error_flag_ = nullptr;  // device
  int* error_host_ = nullptr;  // pinned
  bool poison_ = false;        // HS_CUDA_POISON=1: fill every new activation with 0xFF bytes (NaN)
  DeviceArena arena_;
  PinnedStaging staging_;
  std::map<std::string, int> slot_of_;  // for subgraphs of CPU steps
  std::atomic<int64_t> runs_{0}, uploads_{0}, downloads_{0};  // completed runs and their copies
};

}  // namespace hs::cuda
