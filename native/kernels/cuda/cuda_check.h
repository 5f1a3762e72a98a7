// CUDA error handling for kernels and launchers: every runtime call and every launch becomes an
// hs::Status naming the call, the CUDA error and file:line. Nothing here aborts or exits.
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"

namespace hs::cuda {

// The Status for a failed CUDA call; allocation failures get ERR_CUDA_OOM, the rest ERR_CUDA.
inline Status cuda_status(cudaError_t err, const char* call, const char* file, int line) {
  const StatusCode code = err == cudaErrorMemoryAllocation ? StatusCode::kCudaOom : StatusCode::kCuda;
  return Status(code, str_cat(call, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") at ",
                              file, ":", line));
}

}  // namespace hs::cuda

// Returns a Status from the enclosing function when a CUDA runtime call fails.
#define HS_CUDA_CHECK(call)                                                      \
  do {                                                                           \
    cudaError_t _hs_err = (call);                                                \
    if (_hs_err != cudaSuccess) return ::hs::cuda::cuda_status(_hs_err, #call, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: a bad configuration shows up in cudaGetLastError.
#define HS_CUDA_CHECK_LAUNCH(kernel_name)                                        \
  do {                                                                           \
    cudaError_t _hs_err = cudaGetLastError();                                    \
    if (_hs_err != cudaSuccess)                                                  \
      return ::hs::cuda::cuda_status(_hs_err, "launch of " kernel_name, __FILE__, __LINE__); \
  } while (0)
