#include "hs/devices.h"

#include <atomic>

#include "hs/strcat.h"
#include "kernels/cpu/gemm.h"

#ifdef HS_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace hs {
namespace {

CudaInfo probe() {
  CudaInfo info;
#ifdef HS_WITH_CUDA
  info.compiled = true;
  cudaRuntimeGetVersion(&info.runtime_version);
  if (cudaDriverGetVersion(&info.driver_version) != cudaSuccess || info.driver_version == 0) {
    info.reason = "no NVIDIA driver found (libcuda.so could not be loaded)";
    return info;
  }
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    info.reason = str_cat("cudaGetDeviceCount failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
    cudaGetLastError();
    return info;
  }
  if (count == 0) {
    info.reason = "the driver reports no CUDA devices";
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    info.devices.push_back({i, prop.name, prop.major * 10 + prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  info.available = !info.devices.empty();
  if (!info.available) info.reason = "no CUDA device could be queried";
#else
  info.reason = "the addon was built without CUDA (nvcc was not found or HS_CUDA=OFF)";
#endif
  return info;
}

}  // namespace

namespace {
std::atomic<int64_t> g_device_bytes{0}, g_pinned_bytes{0};
}  // namespace

CudaMemoryStats cuda_memory_stats() { return CudaMemoryStats{g_device_bytes.load(), g_pinned_bytes.load()}; }

void cuda_memory_add(int64_t device_bytes, int64_t pinned_bytes) {
  g_device_bytes += device_bytes;
  g_pinned_bytes += pinned_bytes;
}

const CudaInfo& cuda_info() {
  static const CudaInfo info = probe();
  return info;
}

const char* cpu_kernels() { return cpu::gemm_kernel_name(); }

}  // namespace hs
