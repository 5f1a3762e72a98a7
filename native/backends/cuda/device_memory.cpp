#include "backends/cuda/device_memory.h"

#include "hs/devices.h"

namespace hs::cuda {

cudaError_t device_alloc(void** ptr, size_t bytes) {
  const cudaError_t err = cudaMalloc(ptr, bytes);
  if (err == cudaSuccess) cuda_memory_add((int64_t)bytes, 0);
  return err;
}

void device_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  cudaFree(ptr);
  cuda_memory_add(-(int64_t)bytes, 0);
}

cudaError_t pinned_alloc(void** ptr, size_t bytes) {
  const cudaError_t err = cudaMallocHost(ptr, bytes);
  if (err == cudaSuccess) cuda_memory_add(0, (int64_t)bytes);
  return err;
}

void pinned_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  cudaFreeHost(ptr);
  cuda_memory_add(0, -(int64_t)bytes);
}

}  // namespace hs::cuda
