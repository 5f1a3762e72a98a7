// The CPU fallback of the CUDA backend: runs one plan step with its CPU kernel on host copies of
// its inputs (device values are downloaded, which the plan counts) and leaves the outputs on the
// host. Control flow works too: subgraphs run on the CPU and see the enclosing values by name.
#pragma once
#include <map>
#include <string>

#include "backends/cuda/device_values.h"
#include "core/execution_plan.h"

namespace hs::cuda {

Status run_host_step(const ExecutionPlan::Step& step, DeviceValues& values, const std::map<std::string, int>& slot_of,
                     ThreadPool& pool);

}  // namespace hs::cuda
