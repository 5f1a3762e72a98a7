// GEMM and 2-D convolution (implicit GEMM) launchers with fp32 accumulation.
//   C(m, n) = act(alpha * sum_k A(m, k) B(k, n) + bias[n] + beta * D(m, n))
// Operands are addressed through row/column strides, so transposed and broadcast operands need no
// copies; batch items broadcast numpy-style through per-operand batch strides. B (MatMul and Gemm
// weights) and the convolution's weights may be float32 or 16-bit (converted at build time); B may
// also be int8 with a float32 scale per column n (the LLM's weight-only quantisation per output
// channel): B(k, n) = q(k, n) * b_scale[n], applied to the sum. A, X, C, bias and D are float32.
// Every launcher is asynchronous on `stream`.
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

// Element type of an operand in device memory.
enum class GemmElem : int { kF32, kF16, kBF16, kI8 };

// The kernel that runs a GEMM or convolution: the tactics of the CUDA backend.
//   kSimt:   64x64 tile, fp32 FMA (exact fp32 products; any operand types).
//   kTc64:   64x64 tile, 4 warps, mma.sync m16n8k16 (sm_80+), operands rounded to the MMA type
//            (int8 B is exact in either 16-bit type).
//   kTc128:  128x64 tile, 8 warps, the same MMA.
//   kTc16:   16x32 tile, 4 warps, k in steps of 256, the same MMA: M <= 16 (LLM decode) without 3/4
//            of the tile idle and with the weights of a long k-step in flight.
// The tensor-core tiles run the same MMAs along k for an output element: the same results.
enum class GemmKernel : int { kSimt, kTc64, kTc128, kTc16 };
// The 16-bit type the tensor-core kernels multiply in (fp32 accumulation).
enum class MmaType : int { kF16, kBF16 };

const char* gemm_kernel_name(GemmKernel k);

struct GemmArgs {
  int64_t M = 0, N = 0, K = 0;
  const void* a = nullptr;
  GemmElem a_elem = GemmElem::kF32;
  int64_t a_rs = 0, a_cs = 0;  // A(m, k) = a[m * a_rs + k * a_cs]
  const void* b = nullptr;
  GemmElem b_elem = GemmElem::kF32;
  int64_t b_rs = 0, b_cs = 0;  // B(k, n) = b[k * b_rs + n * b_cs]
  const float* b_scale = nullptr;  // int8 B only: [N], B(k, n) = b[...] * b_scale[n]
  float* c = nullptr;
  int64_t c_rs = 0;            // C(m, n) = c[m * c_rs + n]
  IndexSpace batch;            // batch items (rank 0: one item)
  Strides a_bs, b_bs;          // per batch axis, in elements
  int64_t c_bs = 0;            // C item i starts at c + i * c_bs
  float alpha = 1.f;
  const float* bias = nullptr;  // bias[n]
  const float* d = nullptr;     // D(m, n) = d[m * d_rs + n * d_cs] (every item), scaled by beta
  int64_t d_rs = 0, d_cs = 0;
  float beta = 0.f;
  Epilogue ep;
};

// Checks the sizes and launches `kernel` (`mma` is the tensor-core kernels' type).
Status gemm(const GemmArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream);
// The fp32 SIMT kernel (the fp32 path, and the reference the other tactics are checked against).
inline Status gemm_f32(const GemmArgs& args, cudaStream_t stream) {
  return gemm(args, GemmKernel::kSimt, MmaType::kF16, stream);
}

// NCHW convolution with 2-D kernels (1-D: height 1), groups, strides, dilations and explicit pads.
// y = act(conv(x, w) + bias[m] + residual) where residual has y's shape.
struct Conv2dArgs {
  const float* x = nullptr;
  const void* w = nullptr;          // [out_channels, in_channels / groups, kernel_h, kernel_w]
  GemmElem w_elem = GemmElem::kF32;
  const float* bias = nullptr;      // [out_channels] or null
  const float* residual = nullptr;  // like y, or null
  float* y = nullptr;               // [batch, out_channels, out_h, out_w]
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0, out_channels = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  Epilogue ep;
};

Status conv2d(const Conv2dArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream);

namespace detail {
// The per-kernel launchers behind gemm() and conv2d() (gemm.cu, gemm_tc.cu); arguments checked.
Status gemm_simt(const GemmArgs& args, int64_t items, cudaStream_t stream);
Status conv2d_simt(const Conv2dArgs& args, cudaStream_t stream);
Status gemm_tc(const GemmArgs& args, int64_t items, GemmKernel kernel, MmaType mma, cudaStream_t stream);
Status conv2d_tc(const Conv2dArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream);
}  // namespace detail

}  // namespace hs::cuda
