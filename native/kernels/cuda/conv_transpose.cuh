// ConvTranspose on the device, float32, NCHW with 1 to 3 spatial axes (as 3 with unit axes in
// front): one thread per output element gathers the input pixels whose taps land on it,
//   y[n, m, o] = bias[m] + sum over c of its group and taps k with o = i * stride - pad + k * dilation
//                of x[n, c, i] * w[c, m mod M/group, k],
// so every element is written once and no atomics are needed.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/status.h"

namespace hs::cuda {

struct ConvTransposeAxis {
  int64_t in = 1, out = 1, kernel = 1, stride = 1, dilation = 1, pad = 0;
};

struct ConvTransposeArgs {
  const float* x = nullptr;     // [batch, in_channels, in...]
  const float* w = nullptr;     // [in_channels, out_channels / groups, kernel...]
  const float* bias = nullptr;  // [out_channels] or nullptr
  float* y = nullptr;           // [batch, out_channels, out...]
  int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  ConvTransposeAxis axes[3];    // depth, height, width
};

Status conv_transpose_f32(const ConvTransposeArgs& args, cudaStream_t stream);

}  // namespace hs::cuda
