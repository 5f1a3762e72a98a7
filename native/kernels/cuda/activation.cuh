// Device-side activation functions shared by the elementwise kernels and the GEMM/convolution
// epilogues. Exact Gelu uses erff (CUDA's is accurate to 2 ulp), GeluTanh the tanh form.
#pragma once
#include "kernels/cuda/layout.h"

namespace hs::cuda {

__device__ __forceinline__ float sigmoidf(float x) { return 1.f / (1.f + expf(-x)); }

// min(max(v, lo), hi) written so that a NaN passes through (fminf / fmaxf would drop it), as ONNX
// and the CPU backend have it.
__device__ __forceinline__ float clamp_keep_nan(float v, float lo, float hi) {
  const float low = v < lo ? lo : v;
  return low > hi ? hi : low;
}

__device__ __forceinline__ float apply_act(const Epilogue& ep, float v) {
  switch (ep.act) {
    case Act::kNone: return v;
    case Act::kRelu: return v < 0.f ? 0.f : v;
    case Act::kLeakyRelu: return v < 0.f ? v * ep.alpha : v;
    case Act::kSigmoid: return sigmoidf(v);
    case Act::kTanh: return tanhf(v);
    case Act::kClip: return clamp_keep_nan(v, ep.alpha, ep.beta);
    case Act::kHardSigmoid: return clamp_keep_nan(v * ep.alpha + ep.beta, 0.f, 1.f);
    case Act::kHardSwish: return v * fminf(fmaxf(v * (1.f / 6.f) + 0.5f, 0.f), 1.f);
    case Act::kSilu: return v * sigmoidf(v);
    case Act::kGelu: return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
    case Act::kGeluTanh: return v * sigmoidf(2.f * 0.7978845608028654f * (v + 0.044715f * v * v * v));
  }
  return v;
}

// Element offset of linear index `i` of `space` for an operand with `strides`.
__device__ __forceinline__ int64_t strided_offset(const IndexSpace& space, const Strides& strides, int64_t i) {
  int64_t off = 0;
  for (int d = space.rank - 1; d >= 0; --d) {
    const int64_t n = space.dims[d];
    off += (i % n) * strides.s[d];
    i /= n;
  }
  return off;
}

}  // namespace hs::cuda
