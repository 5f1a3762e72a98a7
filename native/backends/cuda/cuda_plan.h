// CudaPlan: an ExecutionPlan's steps placed on the device. Each step gets its CUDA kernel when a
// factory accepts the node, else it keeps its CPU kernel (the reason is recorded). The constants
// that device kernels read are uploaded once into one weight block shared by every context (in
// the dtype their readers ask for: 16-bit GEMM weights). Kernels with several tactics get one
// chosen on the device (cuda_tactics.cpp). The plan also counts, by walking where each value
// lives, the host<->device copies one run makes.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/cuda_kernel.h"
#include "core/engine_backend.h"
#include "core/execution_plan.h"

namespace hs::cuda {

class CudaPlan {
 public:
  // Places the steps of `plan` (a top-level plan; subgraph steps run on the CPU) and uploads the
  // device constants to `device`. `precision` reaches the kernels (CudaKernelInfo::precision).
  static Result<std::shared_ptr<const CudaPlan>> create(std::shared_ptr<const ExecutionPlan> plan, int device,
                                                        ThreadPool& pool, const std::string& precision);
  // The placement alone, which needs no device: what create() would run where, and its copies.
  static BackendReport placement(std::shared_ptr<const ExecutionPlan> plan, ThreadPool& pool);

  const ExecutionPlan& plan() const { return *plan_; }
  int device() const { return device_; }
  // The step's CUDA kernel, or nullptr when the step runs on the CPU backend.
  const CudaOpKernel* kernel(size_t step) const { return kernels_[step].get(); }
  // The device copy of constant slot `slot`, or nullptr when no device kernel reads it.
  const DeviceTensor* weight(int slot) const;
  const BackendReport& report() const { return report_; }
  // Whether a run can be captured as a CUDA graph: every step on the device, nothing computed on
  // the device read back on the host before the outputs, no host-made value uploaded between
  // steps and no graph input read on the host (so a run's host work depends on its input shapes
  // alone).
  bool graphable() const { return graphable_; }
  // The input slots that device kernels read (uploaded first when a run is captured).
  const std::vector<int>& device_input_slots() const { return device_inputs_; }

 private:
  CudaPlan() = default;
  // Creates the kernels and counts the copies; returns the constant slots device kernels read.
  std::vector<int> place(ThreadPool& pool, const std::string& precision);
  Status upload(const std::vector<int>& device_constants);
  // Selects a tactic for every kernel with several: HS_CUDA_TACTIC when it names a candidate, else
  // the node's cached choice (attribute hs_cuda_tactic), else the fastest correct candidate timed
  // on the device where the input shapes are static, else the default (cuda_tactics.cpp).
  Status choose_tactics();

  std::shared_ptr<const ExecutionPlan> plan_;
  int device_ = 0;
  std::vector<std::unique_ptr<CudaOpKernel>> kernels_;
  std::vector<DeviceTensor> weights_;  // by slot; data null for constants kept on the host
  std::vector<std::vector<passes::ValueType>> step_inputs_;  // build-time input types per step
  std::vector<int> device_inputs_;
  std::string precision_ = "fp32";
  bool graphable_ = false;
  BackendReport report_;
};

}  // namespace hs::cuda
