// CudaContext: one execution context of the CUDA backend. It owns a stream (uploads, kernels and
// downloads of its runs are queued there, so contexts overlap), a device arena for activations,
// pinned staging buffers and a device error flag. A run binds the inputs on the host, walks the
// plan (device steps enqueue kernels; CPU steps download what they read), downloads the outputs and
// waits once. Any failure leaves the stream idle and the context usable.
// CUDA graphs: where the plan is graphable and the option is on, the second run of an input shape
// uploads its inputs, captures the steps' work as a graph and launches it; later runs of that shape
// upload their inputs to the same addresses and replay it (the host work of the steps is skipped).
// The cache is bounded (least recently used out); an arena that moved or a capture that failed
// sends runs down the plain path.
#pragma once
#include <cuda_runtime_api.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "backends/cuda/cuda_plan.h"
#include "backends/cuda/device_arena.h"
#include "backends/cuda/device_values.h"
#include "backends/cuda/graph_cache.h"
#include "backends/cuda/pinned_staging.h"
#include "core/engine_backend.h"

namespace hs::cuda {

class CudaContext final : public RunContext {
 public:
  static Result<std::unique_ptr<CudaContext>> create(std::shared_ptr<const CudaPlan> plan, ThreadPool* pool,
                                                     bool cuda_graphs, bool profile);
  ~CudaContext() override;

  Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs) override;
  void trim() override;
  RunStats stats() const override;
  void collect_profile(std::vector<StepTime>* into, bool reset) override;

 private:
  CudaContext() = default;
  static constexpr size_t kMaxGraphs = 16;  // per context

  Status run_steps(const std::vector<Value>& inputs, std::vector<Value>* outputs);
  // Replays `graph`, or captures and launches it; *ran is false where the run must go eagerly.
  Status run_graph(CapturedGraph& graph, const std::vector<Value>& inputs, std::vector<Value>* outputs, bool* ran);
  Status bind(DeviceValues& values, const std::vector<Value>& inputs);
  Status enqueue_steps(DeviceValues& values);
  Status finish(DeviceValues& values, std::vector<Value>* outputs);
  // After a profiled run has synchronised: the time between each step's events into profile_.
  Status add_step_times();

  std::shared_ptr<const CudaPlan> plan_;
  ThreadPool* pool_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int* error_flag_ = nullptr;  // device
  int* error_host_ = nullptr;  // pinned
  bool poison_ = false;        // HS_CUDA_POISON=1: fill every new activation with 0xFF bytes (NaN)
  DeviceArena arena_;
  PinnedStaging staging_;
  std::map<std::string, int> slot_of_;  // for subgraphs of CPU steps
  std::unique_ptr<GraphCache> graphs_;  // null: graphs off
  std::atomic<int64_t> runs_{0}, uploads_{0}, downloads_{0};  // completed runs and their copies
  std::atomic<int64_t> graph_captures_{0}, graph_replays_{0};
  // Profiling (graphs are off then): an event before each step and one after the last.
  std::unique_ptr<NodeProfile> profile_;
  std::vector<cudaEvent_t> step_events_;
};

}  // namespace hs::cuda
