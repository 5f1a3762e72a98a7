// Pad's per-axis geometry and the input position each output position reads, shared by the CPU
// kernel (pad.cpp) and the CUDA one (native/kernels/cuda/movement.cu). Plain structs only.
#pragma once
#include <stdint.h>

#include "kernels/cpu/host_device.h"

namespace hs::cpu {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// One axis: `first` elements cropped at the start and `kept` kept (negative pads), then `before`
// and `after` added.
struct AxisPad {
  int64_t first = 0, kept = 1, before = 0, after = 0;
  HS_HOST_DEVICE int64_t out_len() const { return before + kept + after; }
};

// Input position of output position i on an axis of length `dim` padded by `before`, or -1.
HS_HOST_DEVICE inline int64_t source_index(int64_t i, int64_t before, int64_t dim, PadMode mode) {
  const int64_t p = i - before;
  if (p >= 0 && p < dim) return p;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return p < 0 ? 0 : dim - 1;
    case PadMode::kWrap: return ((p % dim) + dim) % dim;
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      const int64_t m = ((p % period) + period) % period;
      return m < dim ? m : period - m;
    }
  }
  return -1;
}

}  // namespace hs::cpu
