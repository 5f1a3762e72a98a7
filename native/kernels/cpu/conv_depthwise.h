// Depthwise 2-D convolution (each input channel convolved with its own filters), the bulk of
// MobileNet- and PP-OCR-style models, computed directly rather than through GEMM.
#pragma once
#include <cstdint>

#include "hs/thread_pool.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/conv_phase_planes.h"

namespace hs::cpu {

struct DepthwiseConv2d {
  const float* x;         // [batch, channels, in_h, in_w]
  const float* w;         // [channels * multiplier, 1, kernel_h, kernel_w]
  const float* bias;      // [channels * multiplier] or nullptr
  const float* residual;  // like y, added before the activation, or nullptr
  float* y;               // [batch, channels * multiplier, out_h, out_w]
  int64_t batch, channels, multiplier;
  Conv2dShape shape;
  Activation activation;
};

// y = act(depthwise(x, w) + bias + residual), parallel over (image, channel) planes.
void depthwise_conv2d(const DepthwiseConv2d& args, ThreadPool& pool);

}  // namespace hs::cpu
