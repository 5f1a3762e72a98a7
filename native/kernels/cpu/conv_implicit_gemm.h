// 1-D/2-D convolution of one image group as an implicit GEMM: the GEMM reads the (padded) input
// in place instead of an im2col matrix. See conv_implicit_gemm.cpp.
#pragma once
#include <cstdint>

#include "kernels/cpu/conv_phase_planes.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {

struct ImplicitConv2d {
  const float* x;               // [channels, in_h, in_w] of this group
  int64_t channels;
  Conv2dShape shape;
  const PackedMatrix* weights;  // packed A: [out_channels, channels * kernel_h * kernel_w]
  int64_t out_channels;
  const float* bias;            // [out_channels] or nullptr
  const float* residual;        // like y, added before the activation, or nullptr
  Activation activation;
  float* y;                     // [out_channels, out_h, out_w]
};

// y = act(conv(x, w) + bias + residual); `pool` may be nullptr (single-threaded).
void conv2d_implicit_gemm(const ImplicitConv2d& conv, ThreadPool* pool);

}  // namespace hs::cpu
