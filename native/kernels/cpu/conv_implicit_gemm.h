// 1-D/2-D convolution of one image group as an implicit GEMM: the GEMM reads the (padded) input
// in place instead of an im2col matrix. See conv_implicit_gemm.cpp.
#pragma once
#include <cstdint>

#include "kernels/cpu/conv_phase_planes.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {

struct ImplicitConv2d {
  const float* x;               // [channels, in_h, in_w] of this group
  int64_t x_channel_stride;     // floats between channels of x (in_h * in_w unless a row band)
  int64_t channels;
  Conv2dShape shape;
  const PackedMatrix* weights;  // packed A: [out_channels, channels * kernel_h * kernel_w]
  int64_t out_channels;
  const float* bias;            // [out_channels] or nullptr
  const float* residual;        // like y, added before the activation, or nullptr
  Activation activation;
  float* y;                     // [out_channels, out_h, out_w]
  int64_t y_channel_stride;     // floats between channels of y and residual (out_h * out_w unless a band)
};

// y = act(conv(x, w) + bias + residual); `pool` may be nullptr (single-threaded).
void conv2d_implicit_gemm(const ImplicitConv2d& conv, ThreadPool* pool);

// Output rows [row_begin, row_end) of `conv` as a convolution of their own: the input rows they
// read (padding rows included) and their slice of y. Bands of one image run on separate threads,
// each building its own input planes, so at batch 1 no part of the convolution is serial.
ImplicitConv2d conv2d_row_band(const ImplicitConv2d& conv, int64_t row_begin, int64_t row_end);

}  // namespace hs::cpu
