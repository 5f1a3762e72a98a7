// Rounds float32 to float16 or bfloat16 (round to nearest even), for operands that a 16-bit GEMM
// (cuBLASLt) reads. Asynchronous on `stream`.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/status.h"
#include "kernels/cuda/gemm.cuh"

namespace hs::cuda {

// y[i] = round(x[i]) for i < n; `to` is kF16 or kBF16.
Status float_to_16bit(const float* x, GemmElem to, void* y, int64_t n, cudaStream_t stream);

}  // namespace hs::cuda
