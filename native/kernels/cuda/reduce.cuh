// Reductions (ReduceSum, ReduceMean, ... and the global pools): every output element reduces the
// input elements of a `reduced` index space, offset by its own position in the `kept` space.
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

enum class ReduceOp : int { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kLogSumExp };

struct ReduceArgs {
  const float* x = nullptr;
  float* y = nullptr;          // numel(kept) outputs, contiguous
  IndexSpace kept, reduced;
  Strides kept_strides, reduced_strides;
  ReduceOp op = ReduceOp::kSum;
};

Status reduce_f32(const ReduceArgs& args, cudaStream_t stream);

}  // namespace hs::cuda
