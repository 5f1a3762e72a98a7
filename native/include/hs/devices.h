// What the addon can run on: the CUDA runtime and devices (when compiled in), probed at run time
// so that one binary serves machines with and without a GPU.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hs {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int sm = 0;            // compute capability as major*10+minor, e.g. 90
  size_t memory = 0;     // bytes
  int multiprocessors = 0;
};

struct CudaInfo {
  bool compiled = false;
  bool available = false;
  std::string reason;    // why CUDA is unavailable, empty when available
  int driver_version = 0;
  int runtime_version = 0;
  std::vector<CudaDeviceInfo> devices;
};

// Probed once, then cached.
const CudaInfo& cuda_info();

// The CPU backend's GEMM micro-kernels in use: "avx512", "avx2" or "generic" (picked for the CPU at
// run time; HS_GEMM_KERNEL=avx2|generic forces a slower set). Convolutions follow (conv.cpp).
const char* cpu_kernels();

// Device and pinned host memory the CUDA backend holds now (weights, arenas, staging buffers),
// over every engine of the process; zero without CUDA. dispose() brings it back down.
struct CudaMemoryStats {
  int64_t device_bytes = 0;
  int64_t pinned_bytes = 0;
};
CudaMemoryStats cuda_memory_stats();
// For the CUDA backend: counts its allocations (positive) and frees (negative).
void cuda_memory_add(int64_t device_bytes, int64_t pinned_bytes);

}  // namespace hs
