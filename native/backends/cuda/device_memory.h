// Every device and pinned host allocation of the CUDA backend goes through these, so that
// cuda_memory_stats() (devices().memory) tells what the engines hold and dispose() can be seen to
// give it back. Each returns the CUDA error of the underlying call.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>

namespace hs::cuda {

cudaError_t device_alloc(void** ptr, size_t bytes);
void device_free(void* ptr, size_t bytes);
cudaError_t pinned_alloc(void** ptr, size_t bytes);
void pinned_free(void* ptr, size_t bytes);

}  // namespace hs::cuda
