// Resize on the device. A first kernel fills each axis' table of taps (input index and weight per
// output position, the CPU kernel's very functions from kernels/cpu/resize_coords.h); the second
// computes every output element from them: nearest copies one input element (any element size),
// linear and cubic sum the product of the axes' taps in float32 (antialias makes the taps wider, not
// different). An output position outside the input (tf_crop_and_resize) takes the extrapolation value.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "hs/status.h"
#include "kernels/cpu/resize_coords.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

struct ResizeArgs {
  const void* x = nullptr;
  void* y = nullptr;
  size_t elem_size = 4;  // nearest: 1, 2, 4 or 8; linear and cubic: float32 only
  int rank = 0;
  cpu::AxisGeometry axes[kMaxDims];
  bool identity[kMaxDims] = {};  // output position i reads input position i alone (no table work)
  cpu::ResizeOptions options;
  uint64_t extrapolation_bits = 0;  // the extrapolation value as an element of x's type
};

// Device scratch the tables take (int32 index and float weight per tap).
size_t resize_scratch_bytes(const ResizeArgs& args);

Status resize(const ResizeArgs& args, void* scratch, cudaStream_t stream);

}  // namespace hs::cuda
