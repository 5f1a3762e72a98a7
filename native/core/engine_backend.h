// The seam between the Engine and the backend that runs its plan. The CPU backend's contexts are
// ExecutionContexts; the CUDA backend (native/backends/cuda, compiled only with CUDA) makes its own,
// each with a stream and a device arena, and reports which nodes it left to the CPU.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/node_profile.h"
#include "hs/status.h"
#include "hs/value.h"

namespace hs {

// What the runs of an engine did so far.
struct RunStats {
  int64_t runs = 0;
  int64_t host_to_device = 0, device_to_host = 0;  // tensor copies (graph inputs, outputs, fallbacks)
  int64_t graph_captures = 0, graph_replays = 0;   // CUDA graphs captured, and runs replayed from one
};

// One execution context: runs the plan on its own buffers (and, on a device, its own stream).
// run() and trim() are used by one thread at a time; stats() may be read from any thread.
class RunContext {
 public:
  virtual ~RunContext() = default;
  virtual Status run(const std::vector<Value>& inputs, std::vector<Value>* outputs) = 0;
  // Returns cached memory after a failed run.
  virtual void trim() = 0;
  // Completed runs and the copies they made (none on the CPU).
  virtual RunStats stats() const = 0;
  // Adds the time each plan step took (EngineOptions::profile; nothing when it is off) into `into`,
  // one entry per step; `reset` starts the counts again. May be called from any thread.
  virtual void collect_profile(std::vector<StepTime>* into, bool reset) = 0;
};

// What a backend did with the plan, for engine info.
struct BackendReport {
  std::string device = "cpu";   // "cpu" | "cuda"
  std::string device_name;      // e.g. "NVIDIA H100 80GB HBM3"
  int sm = 0;
  struct CpuNode {
    std::string node;    // Node::describe()
    std::string reason;  // why it has no device kernel
  };
  std::vector<CpuNode> cpu_nodes;  // nodes that run on the CPU backend (empty on the CPU device)
  // Shape arithmetic the CUDA backend runs on the host by design (not a fallback): nodes computing
  // only on Shape / Size outputs, what is computed from them, and constants.
  std::vector<std::string> host_shape_nodes;
  std::string fallback_reason;     // device 'auto' chose the CPU: why not CUDA
  // Host<->device copies one run makes: graph inputs and outputs, and those that CPU nodes and
  // host-side reads cause (`fallback_*`, a part of the totals).
  int64_t host_to_device = 0, device_to_host = 0;
  int64_t fallback_host_to_device = 0, fallback_device_to_host = 0;
  // The kernel chosen for each node that has several (GEMM, convolution) on the device.
  struct Tactic {
    size_t node_index = 0;  // in the plan's graph, to store the choice with a cached plan
    std::string node;       // Node::describe()
    std::string tactic;     // e.g. "tc64", "cublaslt"
    std::string how;        // "timed", "cached" (from the plan cache), "forced" (HS_CUDA_TACTIC) or "default"
    std::vector<std::pair<std::string, double>> timings_ms;  // per timed candidate; < 0: failed its check
  };
  std::vector<Tactic> tactics;
};

}  // namespace hs
