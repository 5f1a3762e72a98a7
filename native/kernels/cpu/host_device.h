// HS_HOST_DEVICE marks the small functions of the CPU kernels' headers that the CUDA kernels call
// too (resize_coords.h, pad_index.h): __host__ __device__ under nvcc, nothing elsewhere.
#pragma once

#if defined(__CUDACC__)
#define HS_HOST_DEVICE __host__ __device__
#else
#define HS_HOST_DEVICE
#endif
