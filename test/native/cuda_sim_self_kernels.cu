// Kernels that probe cuda_sim itself (cuda_sim_self.cpp), launched as translate-cuda.mjs rewrites their launches:
// what the device guarantees (barriers order shared memory, shuffle sources, a returned thread
// leaves the block's barriers) and what it leaves undefined, which the simulation must expose.
#include <cuda_runtime_api.h>

namespace {

// Each thread reads its neighbours' shared-memory writes, behind a barrier or (unordered) without.
template <bool kBarrier>
__global__ void neighbours_kernel(int* out) {
  __shared__ int s[1024];
  const unsigned t = threadIdx.x, n = blockDim.x;
  s[t] = (int)(blockIdx.x * 10000 + t);
  if (kBarrier) __syncthreads();
  out[2 * (blockIdx.x * n + t)] = s[(t + 1) % n];
  out[2 * (blockIdx.x * n + t) + 1] = s[(t + n - 1) % n];
}

__global__ void shuffles_kernel(int* out, int width) {
  const int v = (int)threadIdx.x * 7 + 1;
  int* o = out + 4 * threadIdx.x;
  o[0] = __shfl_xor_sync(~0u, v, 5, width);
  o[1] = __shfl_down_sync(~0u, v, 3, width);
  o[2] = __shfl_up_sync(~0u, v, 3, width);
  o[3] = __shfl_sync(~0u, v, 2, width);
}

// Every third thread returns at once; the others meet twice and count themselves each time.
__global__ void early_return_kernel(int* counts) {
  if (threadIdx.x % 3 == 0) return;
  __syncthreads();
  atomicAdd(&counts[0], 1);
  __syncthreads();
  atomicAdd(&counts[1], 1);
}

// Thread 0 waits at its warp's barrier, the rest at the block's: neither completes.
__global__ void deadlock_kernel() {
  if (threadIdx.x == 0) __syncwarp();
  else __syncthreads();
}

__global__ void shuffle_from_returned_lane_kernel(int* out) {
  if (threadIdx.x == 0) return;
  out[threadIdx.x] = __shfl_sync(~0u, 1, 0);
}

}  // namespace

cudaError_t sim_neighbours(int* out, unsigned blocks, unsigned threads, bool barrier) {
  if (barrier) neighbours_kernel<true><<<blocks, threads>>>(out);
  else neighbours_kernel<false><<<blocks, threads>>>(out);
  return cudaGetLastError();
}
cudaError_t sim_shuffles(int* out, unsigned threads, int width) {
  shuffles_kernel<<<1, threads>>>(out, width);
  return cudaGetLastError();
}
cudaError_t sim_early_return(int* counts, unsigned blocks, unsigned threads) {
  early_return_kernel<<<blocks, threads>>>(counts);
  return cudaGetLastError();
}
cudaError_t sim_deadlock() {
  deadlock_kernel<<<1, 32>>>();
  return cudaGetLastError();
}
cudaError_t sim_shuffle_from_returned_lane(int* out) {
  shuffle_from_returned_lane_kernel<<<1, 32>>>(out);
  return cudaGetLastError();
}
