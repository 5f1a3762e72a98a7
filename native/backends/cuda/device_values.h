// DeviceValues: the values of one run of a CUDA context, each held on the host, on the device or
// both. A value moves only when a reader needs it on the other side (through the pinned staging
// buffers, on the context's stream) and is then kept on both sides, so it moves at most once per
// direction. Downloads wait for the stream; uploads do not.
#pragma once
#include <cuda_runtime_api.h>

#include <vector>

#include "backends/cuda/device_arena.h"
#include "backends/cuda/device_tensor.h"
#include "backends/cuda/pinned_staging.h"
#include "hs/value.h"

namespace hs::cuda {

struct Slot {
  Value host;  // valid when on_host
  DeviceTensor device;  // valid when on_device
  bool on_host = false;
  bool on_device = false;
};

class DeviceValues {
 public:
  DeviceValues(DeviceArena& arena, PinnedStaging& staging, cudaStream_t stream, bool poison)
      : arena_(arena), staging_(staging), stream_(stream), poison_(poison) {}

  void reset(int slots) { slots_.assign((size_t)slots, Slot()); }
  Slot& operator[](int s) { return slots_[(size_t)s]; }
  void release(int s) { slots_[(size_t)s] = Slot(); }

  // New device memory for a tensor (NaN/0xFF-filled first when poisoning, so an output a kernel
  // fails to write shows up); ERR_CUDA_OOM when there is none.
  Result<DeviceTensor> allocate(DType dtype, const Shape& shape);
  // Makes slot s readable on the device (uploads a host tensor). `what` names it in errors. A slot
  // with no value (an omitted optional) stays empty, here and in to_host.
  Status to_device(int s, const std::string& what);
  // Makes slot s readable on the host (downloads and waits for the stream).
  Status to_host(int s);
  // Makes every slot of `slots` readable on the host with a single wait.
  Status to_host_all(const std::vector<int>& slots);

  int64_t uploads() const { return uploads_; }
  int64_t downloads() const { return downloads_; }

 private:
  // Queues the download of slot s into staging; `finish` copies it out once the stream is idle.
  Status queue_download(int s, std::vector<std::pair<int, const void*>>* finish);
  void finish_download(int s, const void* staged);

  DeviceArena& arena_;
  PinnedStaging& staging_;
  cudaStream_t stream_;
  bool poison_;
  std::vector<Slot> slots_;
  int64_t uploads_ = 0, downloads_ = 0;
};

}  // namespace hs::cuda
