#include "backends/cuda/device_arena.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <iterator>

#include "backends/cuda/device_memory.h"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

constexpr size_t kAlign = 256;
constexpr size_t kGrowthSlack = 1 << 20;  // 1 MiB over the mark, so small shape changes still fit

}  // namespace

DeviceArena::~DeviceArena() { trim(); }

void DeviceArena::free_overflow() {
  for (auto& [p, bytes] : overflow_all_) device_free(p, bytes);
  overflow_all_.clear();
  overflow_free_.clear();
}

void DeviceArena::trim() {
  free_overflow();
  device_free(base_, capacity_);
  base_ = nullptr;
  capacity_ = 0;
  free_.clear();
  top_ = 0;
}

void DeviceArena::begin_run() {
  free_overflow();
  free_.clear();
  top_ = 0;
  if (high_water_ > capacity_) {
    device_free(base_, capacity_);
    base_ = nullptr;
    capacity_ = 0;
    const size_t want = (high_water_ + kGrowthSlack + kAlign - 1) / kAlign * kAlign;
    if (device_alloc(&base_, want) == cudaSuccess) capacity_ = want;
    else cudaGetLastError();  // clear the (non-sticky) allocation error; overflow blocks take over
  }
  high_water_ = 0;
}

Result<std::shared_ptr<void>> DeviceArena::allocate(size_t bytes) {
  const size_t size = std::max<size_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  // Best fit among the free ranges, else the top of the used space.
  auto best = free_.end();
  for (auto it = free_.begin(); it != free_.end(); ++it)
    if (it->second >= size && (best == free_.end() || it->second < best->second)) best = it;
  Block block{top_, size, nullptr};
  const size_t high_water_before = high_water_;
  if (best != free_.end()) {
    block.offset = best->first;
    if (best->second > size) free_.emplace(best->first + size, best->second - size);
    free_.erase(best);
  } else {
    top_ += size;
    high_water_ = std::max(high_water_, top_);
  }
  void* ptr;
  if (block.offset + size <= capacity_) {
    ptr = static_cast<char*>(base_) + block.offset;
  } else {
    auto reuse = overflow_free_.lower_bound(size);
    if (reuse != overflow_free_.end()) {
      block.overflow = reuse->second;
      overflow_free_.erase(reuse);
    } else {
      cudaError_t err = device_alloc(&block.overflow, size);
      if (err != cudaSuccess) {
        cudaGetLastError();
        release(Block{block.offset, size, nullptr});
        high_water_ = high_water_before;  // the next run must not try to reserve what never fit
        return cuda_status(err, "cudaMalloc(activation)", __FILE__, __LINE__);
      }
      overflow_all_.emplace_back(block.overflow, size);
    }
    ptr = block.overflow;
  }
  return std::shared_ptr<void>(ptr, [this, block](void*) { release(block); });
}

void DeviceArena::release(const Block& block) {
  if (block.overflow) overflow_free_.emplace(block.size, block.overflow);
  auto it = free_.emplace(block.offset, block.size).first;
  auto next = std::next(it);
  if (next != free_.end() && it->first + it->second == next->first) {
    it->second += next->second;
    free_.erase(next);
  }
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second == it->first) {
      prev->second += it->second;
      free_.erase(it);
      it = prev;
    }
  }
  if (it->first + it->second == top_) {
    top_ = it->first;
    free_.erase(it);
  }
}

}  // namespace hs::cuda
