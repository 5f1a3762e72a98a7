// Runs CUDA device code on the host, for tests of kernels' indexing and data movement on machines
// without a GPU: a block is kThreads std::threads released together (__syncthreads is a barrier),
// __shared__ arrays are function statics (blocks run one after another), threadIdx / blockIdx are
// thread-local. Inline PTX is not emulated: kernels must keep a portable path where __CUDA_ARCH__
// is undefined (as gemm_tc_kernel.cuh's scalar MMA does). Include before the kernel's header.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <vector_types.h>

#include <barrier>
#include <cstdint>
#include <thread>
#include <vector>

// The CUDA headers give these a meaning for host compilers that would break the emulation.
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#undef __align__
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

inline thread_local uint3 threadIdx, blockIdx;
inline dim3 gridDim, blockDim;
inline thread_local std::barrier<>* cuda_sim_block_barrier = nullptr;

inline void __syncthreads() { cuda_sim_block_barrier->arrive_and_wait(); }

namespace cuda_sim {

// Runs body() as every thread of every block of the grid, one block at a time.
template <class Body>
void launch(dim3 grid, unsigned threads, Body&& body) {
  gridDim = grid;
  blockDim = dim3(threads);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        std::barrier<> barrier((std::ptrdiff_t)threads);
        std::vector<std::thread> block;
        for (unsigned t = 0; t < threads; ++t)
          block.emplace_back([&, t] {
            threadIdx = uint3{t, 0, 0};
            blockIdx = uint3{x, y, z};
            cuda_sim_block_barrier = &barrier;
            body();
          });
        for (std::thread& th : block) th.join();
      }
}

}  // namespace cuda_sim
