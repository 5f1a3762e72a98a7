// Reductions (ReduceSum, ReduceMean, ... and the global pools): every output element reduces the
// input elements of a `reduced` index space, offset by its own position in the `kept` space. And
// ArgMax / ArgMin.
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

// ArgMax / ArgMin of float32 x viewed as [outer, axis_len, inner]: y[o, i] = the position along the
// axis of the largest (smallest) element, the first of equal ones or, with select_last, the last;
// a NaN beats any number (numpy's rule). One warp per output.
Status argminmax_f32(const float* x, int64_t outer, int64_t axis_len, int64_t inner, bool max, bool select_last,
                     int64_t* y, cudaStream_t stream);

}  // namespace hs::cuda
