// DeviceArena: the activation memory of one execution context. Values are placed in a virtual
// address space by a best-fit free list as the plan's lifetimes allocate and free them (a block
// returns when its last reader has run: stream order makes the reuse safe). The physical arena is
// one cudaMalloc; a run whose high-water mark exceeds it gets the excess from overflow blocks, and
// the next run starts with an arena grown to that mark, so a repeated input shape runs out of one
// allocation with no cudaMalloc at all. Not thread-safe: one per context.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "hs/status.h"

namespace hs::cuda {

class DeviceArena {
 public:
  DeviceArena() = default;
  ~DeviceArena();
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;

  // Before a run (the stream is idle): frees the overflow blocks and grows the arena to the last
  // run's high-water mark. Failing to grow is not an error: the run then allocates overflow blocks
  // (and fails with ERR_CUDA_OOM only if those fail too).
  void begin_run();
  // `bytes` of device memory (256-byte aligned) released when the returned owner is destroyed.
  // ERR_CUDA_OOM when the device has no room.
  Result<std::shared_ptr<void>> allocate(size_t bytes);
  // Frees every block (after a failure, or to return memory); outstanding owners must be gone.
  void trim();
  // Where the arena is now, and whether this run needed overflow blocks (which begin_run frees, so
  // a CUDA graph captured then would point at freed memory).
  const void* base() const { return base_; }
  size_t capacity() const { return capacity_; }
  bool overflowed() const { return !overflow_all_.empty(); }

 private:
  struct Block {
    size_t offset, size;
    void* overflow;  // a dedicated cudaMalloc when the block lies past the arena
  };
  void release(const Block& block);
  void free_overflow();

  void* base_ = nullptr;
  size_t capacity_ = 0;
  size_t top_ = 0;         // end of the used virtual space
  size_t high_water_ = 0;  // largest top_ since the last begin_run
  std::map<size_t, size_t> free_;               // virtual offset -> size, coalesced
  std::multimap<size_t, void*> overflow_free_;  // released overflow blocks by size, reused within a run
  std::vector<std::pair<void*, size_t>> overflow_all_;
};

}  // namespace hs::cuda
