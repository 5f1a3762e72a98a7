#include "backends/cuda/pinned_staging.h"

#include <cuda_runtime_api.h>

#include <algorithm>

#include "backends/cuda/device_memory.h"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {
constexpr size_t kAlign = 256;
constexpr size_t kMinBlock = 1 << 20;
}  // namespace

PinnedStaging::~PinnedStaging() { trim(); }

void PinnedStaging::trim() {
  reset();
  pinned_free(block_, capacity_);
  block_ = nullptr;
  capacity_ = 0;
}

void PinnedStaging::reset() {
  for (auto& [p, bytes] : retired_) pinned_free(p, bytes);
  retired_.clear();
  used_ = 0;
}

Result<void*> PinnedStaging::reserve(size_t bytes) {
  const size_t size = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  if (used_ + size > capacity_) {
    const size_t want = std::max({kMinBlock, size, 2 * capacity_});
    if (block_) retired_.emplace_back(block_, capacity_);
    block_ = nullptr;
    used_ = 0;
    capacity_ = 0;
    cudaError_t err = pinned_alloc(&block_, want);
    if (err != cudaSuccess) {
      cudaGetLastError();
      block_ = nullptr;
      return cuda_status(err, "cudaMallocHost(staging)", __FILE__, __LINE__);
    }
    capacity_ = want;
  }
  void* p = static_cast<char*>(block_) + used_;
  used_ += size;
  return p;
}

}  // namespace hs::cuda
