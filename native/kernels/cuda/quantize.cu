// QuantizeLinear / DequantizeLinear (quantize.cuh): one thread per element, grid-stride.
#include "kernels/cuda/quantize.cuh"

#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/grid_stride.cuh"

namespace hs::cuda {
namespace {

__device__ __forceinline__ int64_t scale_index(const QuantScales& q, int64_t e) {
  if (q.mode == QuantScales::Mode::kTensor) return 0;
  const int64_t a = e / q.inner % q.axis_len;
  if (q.mode == QuantScales::Mode::kAxis) return a;
  const int64_t o = e / (q.inner * q.axis_len), i = e % q.inner;
  return (o * q.blocks + a / q.block) * q.inner + i;
}

template <typename Q>
__global__ void quantize_kernel(const float* __restrict__ x, const float* __restrict__ scale, const Q* __restrict__ zero_point,
                                Q* __restrict__ y, int64_t n, QuantScales q, float lo, float hi) {
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    const int64_t s = scale_index(q, e);
    float v = rintf(x[e] / scale[s]);  // ties to even
    if (v != v) v = 0.f;
    v += zero_point ? (float)zero_point[s] : 0.f;
    y[e] = (Q)fminf(hi, fmaxf(lo, v));
  }
}

template <typename Q>
__global__ void dequantize_kernel(const Q* __restrict__ x, const float* __restrict__ scale, const Q* __restrict__ zero_point,
                                  float* __restrict__ y, int64_t n, QuantScales q) {
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    const int64_t s = scale_index(q, e);
    y[e] = (float)((int64_t)x[e] - (zero_point ? (int64_t)zero_point[s] : 0)) * scale[s];
  }
}

template <typename F>
Status with_quantized_type(DType type, bool int32_too, const char* what, F&& f) {
  switch (type) {
    case DType::kUint8: return f(uint8_t{}, 0.f, 255.f);
    case DType::kInt8: return f(int8_t{}, -128.f, 127.f);
    case DType::kUint16: return f(uint16_t{}, 0.f, 65535.f);
    case DType::kInt16: return f(int16_t{}, -32768.f, 32767.f);
    case DType::kInt32:
      if (int32_too) return f(int32_t{}, 0.f, 0.f);
      break;
    default: break;
  }
  HS_FAIL(kType, what, ": the quantised type ", dtype_name(type), " is not on CUDA");
}

}  // namespace

Status quantize_linear(const float* x, const float* scale, const void* zero_point, DType type, void* y, int64_t n,
                       const QuantScales& q, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  if (!x || !scale || !y) HS_FAIL(kInvalidArgument, "quantize_linear: null operand");
  return with_quantized_type(type, false, "QuantizeLinear", [&](auto tag, float lo, float hi) {
    using Q = decltype(tag);
    quantize_kernel<Q><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(x, scale, static_cast<const Q*>(zero_point),
                                                                                static_cast<Q*>(y), n, q, lo, hi);
    HS_CUDA_CHECK_LAUNCH("quantize_kernel");
    return Status::ok();
  });
}

Status dequantize_linear(const void* x, DType type, const float* scale, const void* zero_point, float* y, int64_t n,
                         const QuantScales& q, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  if (!x || !scale || !y) HS_FAIL(kInvalidArgument, "dequantize_linear: null operand");
  return with_quantized_type(type, true, "DequantizeLinear", [&](auto tag, float, float) {
    using Q = decltype(tag);
    dequantize_kernel<Q><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(static_cast<const Q*>(x), scale,
                                                                                  static_cast<const Q*>(zero_point), y, n, q);
    HS_CUDA_CHECK_LAUNCH("dequantize_kernel");
    return Status::ok();
  });
}

}  // namespace hs::cuda
