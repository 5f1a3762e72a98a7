// 2-D MaxPool / AveragePool over NCHW planes (1-D pools: height 1).
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"

namespace hs::cuda {

struct Pool2dArgs {
  const float* x = nullptr;
  float* y = nullptr;
  int64_t planes = 0;  // batch * channels
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool max = true;
  bool count_include_pad = false;  // AveragePool: divide by the window inside the padded input
};

Status pool2d_f32(const Pool2dArgs& args, cudaStream_t stream);

}  // namespace hs::cuda
