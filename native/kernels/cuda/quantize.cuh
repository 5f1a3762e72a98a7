// QuantizeLinear and DequantizeLinear on CUDA (the CPU kernels' arithmetic, kernels/cpu/quantize.cpp):
//   quantize:   y = saturate(round_half_even(x / scale) + zero_point), NaN giving the zero point
//   dequantize: y = (x - zero_point) * scale
// with one scale (and zero point) for the tensor, one per index of an axis, or one per block along it.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/dtype.h"
#include "hs/status.h"

namespace hs::cuda {

// Where element e's scale is, x viewed as [outer, axis_len, inner] (cpu::QuantAxis on the device).
struct QuantScales {
  enum class Mode : int { kTensor, kAxis, kBlocked };
  Mode mode = Mode::kTensor;
  int64_t axis_len = 1, inner = 1;
  int64_t block = 1, blocks = 1;  // kBlocked: indices per block, blocks along the axis
};

// x float32 -> y of `type` (uint8, int8, uint16, int16); zero_point of `type` or nullptr (0).
Status quantize_linear(const float* x, const float* scale, const void* zero_point, DType type, void* y, int64_t n,
                       const QuantScales& q, cudaStream_t stream);

// x of `type` (uint8, int8, uint16, int16, int32) -> y float32; zero_point of `type` or nullptr.
Status dequantize_linear(const void* x, DType type, const float* scale, const void* zero_point, float* y, int64_t n,
                         const QuantScales& q, cudaStream_t stream);

}  // namespace hs::cuda
