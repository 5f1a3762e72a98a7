// A grid-stride loop, one element per thread per step.
#include "kernels/cuda/to_16bit.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

__global__ void to_16bit_kernel(const float* x, bool bf16, unsigned short* y, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] = bf16 ? __bfloat16_as_ushort(__float2bfloat16_rn(x[i])) : __half_as_ushort(__float2half_rn(x[i]));
}

}  // namespace

Status float_to_16bit(const float* x, GemmElem to, void* y, int64_t n, cudaStream_t stream) {
  if (to != GemmElem::kF16 && to != GemmElem::kBF16) HS_FAIL(kInvalidArgument, "float_to_16bit: the target must be a 16-bit type");
  if (n <= 0) return Status::ok();
  const int64_t blocks = (n + 255) / 256;
  to_16bit_kernel<<<(unsigned)(blocks < 4096 ? blocks : 4096), 256, 0, stream>>>(x, to == GemmElem::kBF16,
                                                                              static_cast<unsigned short*>(y), n);
  HS_CUDA_CHECK_LAUNCH("to_16bit_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
