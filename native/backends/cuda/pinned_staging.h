// PinnedStaging: page-locked host memory through which one context's uploads and downloads pass,
// so cudaMemcpyAsync is truly asynchronous on the context's stream. A bump allocator reset after
// each run (when the stream is idle); a full block is retired, not freed, until then, because
// copies queued from or into it may still be in flight.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "hs/status.h"

namespace hs::cuda {

class PinnedStaging {
 public:
  PinnedStaging() = default;
  ~PinnedStaging();
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  // `bytes` of pinned memory valid until reset().
  Result<void*> reserve(size_t bytes);
  // The stream is idle: retired blocks are freed and the current one is reused from the start.
  void reset();
  void trim();

 private:
  void* block_ = nullptr;
  size_t capacity_ = 0, used_ = 0;
  std::vector<std::pair<void*, size_t>> retired_;
};

}  // namespace hs::cuda
