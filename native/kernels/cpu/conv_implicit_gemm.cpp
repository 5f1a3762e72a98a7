// 1-D/2-D convolution as an implicit GEMM (no im2col matrix, nothing of the input packed).
//
// The input is copied once into phase planes (conv_phase_planes.h), in which kernel tap
// (c, kh, kw) of output pixel (oh, ow) sits at  offset[c, kh, kw] + q,  q = oh * row_len + ow.
// So the im2col matrix is B[k][q] = planes[offset[k] + q]: the GEMM's in-place B (row_offsets),
// with q running over out_h rows of row_len columns. row_len exceeds out_w by
// ((kernel_w - 1) * dilation_w) / stride_w junk columns: the GEMM writes
// [out_channels, out_h * row_len] into scratch and the valid out_w columns of each row are copied
// to y (when row_len == out_w, it writes y directly). A 1x1 stride-1 unpadded convolution needs
// no copy at all: B is x itself.
#include "kernels/cpu/conv_implicit_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hs::cpu {
namespace {

struct Scratch {
  std::vector<float> planes, result;
  std::vector<int64_t> offsets;
};

}  // namespace

void conv2d_implicit_gemm(const ImplicitConv2d& c, ThreadPool* pool) {
  thread_local Scratch scratch;
  const Conv2dShape& s = c.shape;
  const int64_t taps = s.kernel_h * s.kernel_w, k_size = c.channels * taps;
  const bool pointwise = taps == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_top == 0 && s.pad_left == 0 &&
                         s.out_h == s.in_h && s.out_w == s.in_w;
  std::vector<int64_t>& offsets = scratch.offsets;
  offsets.resize((size_t)k_size);
  const float* b_base;
  int64_t row_len, n;
  if (pointwise) {
    row_len = s.in_w;
    n = s.in_h * s.in_w;
    for (int64_t ch = 0; ch < c.channels; ++ch) offsets[ch] = ch * c.x_channel_stride;
    b_base = c.x;
  } else {
    const PhasePlanes layout(s);
    row_len = layout.row_len();
    n = layout.flat_outputs();
    const int64_t channel_size = layout.channel_size();
    scratch.planes.resize((size_t)(c.channels * channel_size));
    float* planes = scratch.planes.data();
    const std::vector<int64_t>& tap_offsets = layout.tap_offsets();
    for (int64_t ch = 0; ch < c.channels; ++ch) {
      layout.build_channel(c.x + ch * c.x_channel_stride, planes + ch * channel_size);
      for (int64_t t = 0; t < taps; ++t) offsets[ch * taps + t] = ch * channel_size + tap_offsets[t];
    }
    b_base = planes;
  }

  const bool direct = row_len == s.out_w;  // no junk columns: the GEMM writes y itself
  float* result = c.y;
  int64_t ldr = c.y_channel_stride;  // row stride of the GEMM's result
  if (!direct) {
    scratch.result.resize((size_t)(c.out_channels * n));
    result = scratch.result.data();
    ldr = n;
  }
  float beta = 0.f;
  if (c.residual) {
    beta = 1.f;
    for (int64_t m = 0; m < c.out_channels; ++m)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        std::memcpy(result + m * ldr + oh * row_len, c.residual + m * c.y_channel_stride + oh * s.out_w,
                    sizeof(float) * (size_t)s.out_w);
  }
  GemmOperand a;
  a.packed = c.weights;
  GemmOperand b;
  b.data = b_base;
  b.row_offsets = offsets.data();
  GemmEpilogue ep;
  ep.row_bias = c.bias;
  ep.activation = c.activation;
  sgemm_ex(c.out_channels, n, k_size, 1.f, a, b, beta, result, ldr, ep, pool);
  if (!direct) {
    for (int64_t m = 0; m < c.out_channels; ++m)
      for (int64_t oh = 0; oh < s.out_h; ++oh)
        std::memcpy(c.y + m * c.y_channel_stride + oh * s.out_w, result + m * n + oh * row_len,
                    sizeof(float) * (size_t)s.out_w);
  }
}

ImplicitConv2d conv2d_row_band(const ImplicitConv2d& c, int64_t row_begin, int64_t row_end) {
  const Conv2dShape& s = c.shape;
  // Input rows the band reads, padding included: [first, last].
  const int64_t first = row_begin * s.stride_h - s.pad_top;
  const int64_t last = (row_end - 1) * s.stride_h - s.pad_top + (s.kernel_h - 1) * s.dilation_h;
  const int64_t begin = std::clamp<int64_t>(first, 0, s.in_h), end = std::clamp<int64_t>(last + 1, begin, s.in_h);
  ImplicitConv2d band = c;
  band.x = c.x + begin * s.in_w;
  band.shape.in_h = end - begin;
  band.shape.pad_top = begin - first;  // rows of the band's window above its first real row
  band.shape.out_h = row_end - row_begin;
  band.y = c.y + row_begin * s.out_w;
  if (c.residual) band.residual = c.residual + row_begin * s.out_w;
  return band;
}

}  // namespace hs::cpu
