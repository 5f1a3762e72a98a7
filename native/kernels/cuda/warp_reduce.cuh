// Warp and block reductions through shuffles, shared by the attention, normalisation and LLM kernels.
#pragma once

namespace hs::cuda::device {

// Reductions over aligned groups of `width` lanes (a power of two <= 32, the same in every lane).
__device__ __forceinline__ float warp_max(float v, int width = 32) {
  for (int offset = width / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}
__device__ __forceinline__ float warp_sum(float v, int width = 32) {
  for (int offset = width / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum of v over a block of kThreads threads (a multiple of 32, at most 1024); every thread gets the
// result. Every thread of the block must call it; it may be called again right after.
template <int kThreads>
__device__ float block_sum(float v) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, at most 32 of them");
  __shared__ float partial[kThreads / 32];
  __shared__ float total;
  v = warp_sum(v);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    float w = threadIdx.x < kThreads / 32 ? partial[threadIdx.x] : 0.f;
    w = warp_sum(w);
    if (threadIdx.x == 0) total = w;
  }
  __syncthreads();
  const float result = total;
  __syncthreads();  // partial and total are reused by the next call
  return result;
}

}  // namespace hs::cuda::device
