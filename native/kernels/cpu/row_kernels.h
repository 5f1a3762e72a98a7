// Float row kernels of the normalising operators (Softmax, LogSoftmax, LayerNormalization): one
// vector-extension template compiled for AVX-512, AVX2+FMA and baseline SSE2, chosen once per
// process with the GEMM's instruction-set choice (simd_level(), so HS_GEMM_KERNEL forces these
// onto the same fallback). Rows are contiguous, n > 0, and x never aliases y.
#pragma once
#include <cstdint>

namespace hs::cpu {

struct RowKernels {
  // y = exp(x - max) / sum(exp(x - max)).
  void (*softmax)(const float* x, float* y, int64_t n);
  // y = x - max - log(sum(exp(x - max))).
  void (*log_softmax)(const float* x, float* y, int64_t n);
  // x[i] = exp(x[i]).
  void (*exp_inplace)(float* x, int64_t n);
  // y = (x - mean) * inv_std * scale (+ bias unless null), with the row's mean and inv_std
  // (1 / sqrt(population variance + epsilon)) computed in two passes and returned.
  void (*layer_norm)(const float* x, const float* scale, const float* bias, float epsilon, int64_t n, float* y,
                     float* mean, float* inv_std);
};

// The kernels for this CPU.
const RowKernels& row_kernels();

}  // namespace hs::cpu
