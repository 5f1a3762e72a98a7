// MaxPool / AveragePool over NC(D)HW volumes: 1-, 2- and 3-D windows (a 1-D or 2-D pool has its leading
// axes of length 1).
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"

namespace hs::cuda {

constexpr int kPoolAxes = 3;  // depth, height, width

struct PoolArgs {
  const float* x = nullptr;
  float* y = nullptr;
  int64_t planes = 0;  // batch * channels
  // Per axis (depth, height, width).
  int64_t in[kPoolAxes] = {1, 1, 1}, out[kPoolAxes] = {1, 1, 1};
  int64_t kernel[kPoolAxes] = {1, 1, 1}, stride[kPoolAxes] = {1, 1, 1}, dilation[kPoolAxes] = {1, 1, 1};
  int64_t pad_begin[kPoolAxes] = {0, 0, 0}, pad_end[kPoolAxes] = {0, 0, 0};
  bool max = true;
  bool count_include_pad = false;  // AveragePool: divide by the window inside the padded input
};

Status pool_f32(const PoolArgs& args, cudaStream_t stream);

}  // namespace hs::cuda
