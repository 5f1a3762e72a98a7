#include "backends/cuda/pinned_staging.h"

#include <cuda_runtime_api.h>

#include <algorithm>

#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {
constexpr size_t kAlign = 256;
constexpr size_t kMinBlock = 1 << 20;
}  // namespace

PinnedStaging::~PinnedStaging() { trim(); }

void PinnedStaging::trim() {
  reset();
  if (block_) cudaFreeHost(block_);
  block_ = nullptr;
  capacity_ = 0;
}

void PinnedStaging::reset() {
  for (void* p : retired_) cudaFreeHost(p);
  retired_.clear();
  used_ = 0;
}

Result<void*> PinnedStaging::reserve(size_t bytes) {
  const size_t size = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  if (used_ + size > capacity_) {
    const size_t want = std::max({kMinBlock, size, 2 * capacity_});
    if (block_) retired_.push_back(block_);
    block_ = nullptr;
    used_ = 0;
    capacity_ = 0;
    cudaError_t err = cudaMallocHost(&block_, want);
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
