// Depthwise 2-D convolution of small planes on AVX2 hosts, 8 channels per vector (as onnxruntime's
// NCHWc kernels do): plane by plane (conv_depthwise.cpp), a 10x10 or 20x20 output pays for junk
// columns, vector rounding and a copy of every plane; here a block of 8 channels is transposed into
// a zero-padded [rows][columns][8] buffer, every output pixel takes one FMA per tap with no waste,
// and the [pixels][8] results go back to their channel planes through 8 x 8 transposes.
#include "kernels/cpu/conv_depthwise_blocked.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/transpose8_avx2.h"

namespace hs::cpu {

bool depthwise_blocked_suits(const DepthwiseConv2d& a) {
  // Larger planes have few junk columns per row, and their own path streams them once.
  constexpr int64_t kMaxPixels = 48 * 48;
  const Conv2dShape& s = a.shape;
  if (simd_level() != SimdLevel::kAvx2 || a.multiplier != 1 || s.out_h <= 0 || s.out_w <= 0 || s.out_h * s.out_w > kMaxPixels)
    return false;
  // The padded block spans the window of every output: large strides or dilations would make it
  // far larger than the outputs (the phase planes of the other path do not grow with them).
  const int64_t hp = (s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1;
  const int64_t wp = (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1;
  return hp <= 4 * 48 && wp <= 4 * 48;
}

#if defined(__x86_64__)
namespace {

constexpr int kLanes = 8;
constexpr int kChains = 4;  // output pixels computed together (independent FMA chains)

struct Scratch {
  std::vector<float> padded, out, weights;
};

// xb[(r * wp + c) * 8 + j] = input channel j at (r - pad_top, c - pad_left), 0 outside and for
// channels j >= lanes.
__attribute__((target("avx2"))) void gather(const float* const planes[kLanes], int lanes, const Conv2dShape& s,
                                            int64_t hp, int64_t wp, float* xb) {
  std::memset(xb, 0, sizeof(float) * (size_t)(hp * wp * kLanes));
  const int64_t ih_begin = std::max<int64_t>(0, -s.pad_top), ih_end = std::min(s.in_h, hp - s.pad_top);
  const int64_t iw_begin = std::max<int64_t>(0, -s.pad_left), iw_end = std::min(s.in_w, wp - s.pad_left);
  for (int64_t ih = ih_begin; ih < ih_end; ++ih) {
    float* row = xb + ((ih + s.pad_top) * wp + s.pad_left) * kLanes;
    int64_t iw = iw_begin;
    for (; iw + kLanes <= iw_end; iw += kLanes) {
      __m256 v[kLanes];
      for (int j = 0; j < kLanes; ++j) v[j] = j < lanes ? _mm256_loadu_ps(planes[j] + ih * s.in_w + iw) : _mm256_setzero_ps();
      transpose8(v);
      for (int p = 0; p < kLanes; ++p) _mm256_storeu_ps(row + (iw + p) * kLanes, v[p]);
    }
    for (; iw < iw_end; ++iw)
      for (int j = 0; j < lanes; ++j) row[iw * kLanes + j] = planes[j][ih * s.in_w + iw];
  }
}

// ob[p * 8 + j] = bias[j] + sum over taps of xb[tap's pixel] * wb[tap * 8 + j], for every output pixel p.
__attribute__((target("avx2,fma"))) void compute(const float* xb, const float* wb, const float* bias,
                                                 const Conv2dShape& s, int64_t wp, float* ob) {
  const __m256 b = _mm256_loadu_ps(bias);
  const int64_t step = s.stride_w * kLanes;
  for (int64_t oh = 0; oh < s.out_h; ++oh) {
    const float* row = xb + oh * s.stride_h * wp * kLanes;
    float* out = ob + oh * s.out_w * kLanes;
    int64_t ow = 0;
    for (; ow + kChains <= s.out_w; ow += kChains) {
      __m256 acc[kChains] = {b, b, b, b};
      for (int64_t kh = 0; kh < s.kernel_h; ++kh) {
        const float* r = row + kh * s.dilation_h * wp * kLanes + ow * step;
        for (int64_t kw = 0; kw < s.kernel_w; ++kw) {
          const __m256 w = _mm256_loadu_ps(wb + (kh * s.kernel_w + kw) * kLanes);
          const float* p = r + kw * s.dilation_w * kLanes;
#pragma GCC unroll 4
          for (int u = 0; u < kChains; ++u) acc[u] = _mm256_fmadd_ps(_mm256_loadu_ps(p + u * step), w, acc[u]);
        }
      }
#pragma GCC unroll 4
      for (int u = 0; u < kChains; ++u) _mm256_storeu_ps(out + (ow + u) * kLanes, acc[u]);
    }
    for (; ow < s.out_w; ++ow) {
      __m256 acc = b;
      for (int64_t kh = 0; kh < s.kernel_h; ++kh)
        for (int64_t kw = 0; kw < s.kernel_w; ++kw)
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(row + (kh * s.dilation_h * wp + ow * s.stride_w + kw * s.dilation_w) * kLanes),
                                _mm256_loadu_ps(wb + (kh * s.kernel_w + kw) * kLanes), acc);
      _mm256_storeu_ps(out + ow * kLanes, acc);
    }
  }
}

// Channel j < lanes of ob to its plane y[j] (plus z[j] where there is a residual).
__attribute__((target("avx2"))) void scatter(const float* ob, int64_t pixels, int lanes, float* const y[kLanes],
                                             const float* const z[kLanes]) {
  int64_t p = 0;
  for (; p + kLanes <= pixels; p += kLanes) {
    __m256 v[kLanes];
    for (int q = 0; q < kLanes; ++q) v[q] = _mm256_loadu_ps(ob + (p + q) * kLanes);
    transpose8(v);
    for (int j = 0; j < lanes; ++j) {
      __m256 out = v[j];
      if (z[j]) out = _mm256_add_ps(out, _mm256_loadu_ps(z[j] + p));
      _mm256_storeu_ps(y[j] + p, out);
    }
  }
  for (; p < pixels; ++p)
    for (int j = 0; j < lanes; ++j) y[j][p] = ob[p * kLanes + j] + (z[j] ? z[j][p] : 0.f);
}

}  // namespace

void depthwise_blocked(const DepthwiseConv2d& a, int64_t image, int64_t block) {
  thread_local Scratch scratch;
  const Conv2dShape& s = a.shape;
  const int64_t hp = (s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1;
  const int64_t wp = (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1;
  const int64_t taps = s.kernel_h * s.kernel_w, pixels = s.out_h * s.out_w;
  const int64_t c0 = block * kLanes;
  const int lanes = (int)std::min<int64_t>(kLanes, a.channels - c0);
  scratch.padded.resize((size_t)(hp * wp * kLanes));
  scratch.out.resize((size_t)(pixels * kLanes));
  scratch.weights.assign((size_t)(taps * kLanes + kLanes), 0.f);
  const float* planes[kLanes];
  float* y[kLanes];
  const float* z[kLanes];
  float* wb = scratch.weights.data();
  float* bias = wb + taps * kLanes;
  for (int j = 0; j < kLanes; ++j) {
    const int64_t plane = image * a.channels + c0 + j;
    planes[j] = j < lanes ? a.x + plane * s.in_h * s.in_w : nullptr;
    y[j] = j < lanes ? a.y + plane * pixels : nullptr;
    z[j] = j < lanes && a.residual ? a.residual + plane * pixels : nullptr;
    if (j >= lanes) continue;
    for (int64_t t = 0; t < taps; ++t) wb[t * kLanes + j] = a.w[(c0 + j) * taps + t];
    bias[j] = a.bias ? a.bias[c0 + j] : 0.f;
  }
  gather(planes, lanes, s, hp, wp, scratch.padded.data());
  compute(scratch.padded.data(), wb, bias, s, wp, scratch.out.data());
  scatter(scratch.out.data(), pixels, lanes, y, z);
  for (int j = 0; j < lanes; ++j) apply_activation(a.activation, y[j], pixels);
}
#else
void depthwise_blocked(const DepthwiseConv2d&, int64_t, int64_t) {}
#endif

}  // namespace hs::cpu
