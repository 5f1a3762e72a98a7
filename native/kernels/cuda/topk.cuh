// TopK on CUDA: the k best elements of each row along an axis, best first, and their int64 indices.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/dtype.h"
#include "hs/status.h"

namespace hs::cuda {

// The launcher's limit on k: each of the k rounds scans the whole row.
constexpr int64_t kTopKMaxK = 1024;

// x viewed as [outer, axis, inner]: values and indices [outer, k, inner] hold, per (outer, inner)
// row, its k largest (largest) or smallest elements in that order, ties by lower index first, NaN
// above every number (the CPU kernel's order). dtype float32, int32 or int64; 0 <= k <= min(axis,
// kTopKMaxK).
Status top_k(DType dtype, const void* x, void* values, int64_t* indices, int64_t outer, int64_t axis, int64_t inner, int64_t k,
             bool largest, cudaStream_t stream);

}  // namespace hs::cuda
