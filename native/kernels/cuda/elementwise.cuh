// Elementwise launchers: unary float32 math and activations, and binary operators with numpy
// broadcasting (each operand read through its own strides over the output's index space).
#pragma once
#include <cuda_runtime_api.h>

#include "hs/dtype.h"
#include "hs/status.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

enum class UnaryOp : int {
  kRelu, kSigmoid, kTanh, kErf, kSqrt, kExp, kLog, kAbs, kNeg, kReciprocal, kFloor, kCeil,
  kLeakyRelu, kElu, kHardSigmoid, kHardSwish, kSoftplus, kSilu, kClip, kSin, kCos, kSoftsign, kIdentity,
};

// y[i] = op(x[i]) for i < n, float32. alpha/beta: LeakyRelu/Elu slope, HardSigmoid alpha/beta, Clip min/max.
Status unary_f32(UnaryOp op, float alpha, float beta, const float* x, float* y, int64_t n, cudaStream_t stream);

enum class BinaryOp : int { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kPRelu };

// out[i] = op(a[off_a(i)], b[off_b(i)]) over `space` (out is contiguous). dtype: float32 for every
// op; int32 and int64 for Add, Sub, Mul, Div (truncating), Max, Min.
Status binary(BinaryOp op, DType dtype, const void* a, const Strides& a_strides, const void* b,
              const Strides& b_strides, void* out, const IndexSpace& space, cudaStream_t stream);

}  // namespace hs::cuda
