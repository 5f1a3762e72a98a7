// Elementwise launchers: unary float32 math and activations, binary operators and comparisons with
// numpy broadcasting (each operand read through its own strides over the output's index space),
// Where, and Cast.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/dtype.h"
#include "hs/status.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

enum class UnaryOp : int {
  kRelu, kSigmoid, kTanh, kErf, kSqrt, kExp, kLog, kAbs, kNeg, kReciprocal, kFloor, kCeil,
  kLeakyRelu, kElu, kHardSigmoid, kHardSwish, kSoftplus, kSilu, kClip, kSin, kCos, kSoftsign, kIdentity,
  kRound, kSign, kTan, kAsin, kAcos, kAtan, kSinh, kCosh, kAsinh, kAcosh, kAtanh, kSelu, kCelu, kThresholdedRelu, kMish,
  kScale, kGelu, kGeluTanh, kShrink,
};

// y[i] = op(x[i]) for i < n, float32. alpha/beta: LeakyRelu/Elu/Celu/ThresholdedRelu alpha, HardSigmoid
// alpha/beta, Clip min/max, Selu alpha/gamma, kScale's factor (y = alpha * x), Shrink lambd/bias.
Status unary_f32(UnaryOp op, float alpha, float beta, const float* x, float* y, int64_t n, cudaStream_t stream);

// kMod: the remainder with the divisor's sign (ONNX Mod, fmod = 0); kFmod: with the dividend's
// (C fmod, fmod = 1). An integer division or remainder by zero gives 0, not a trap.
enum class BinaryOp : int { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kPRelu, kMod, kFmod, kAnd, kOr, kXor };

// out[i] = op(a[off_a(i)], b[off_b(i)]) over `space` (out is contiguous; it must not alias an
// operand). dtype: float32 for the arithmetic ops and kFmod; int32 and int64 for Add, Sub, Mul, Div
// (truncating), Max, Min, kMod and kFmod; bool (one byte) for And, Or and Xor only.
Status binary(BinaryOp op, DType dtype, const void* a, const Strides& a_strides, const void* b,
              const Strides& b_strides, void* out, const IndexSpace& space, cudaStream_t stream);

enum class ToBoolOp : int { kNot, kIsNaN, kIsInf, kIsPosInf, kIsNegInf };

// y[i] = op(x[i]) as a bool byte: Not reads bool bytes, the float tests float32.
Status to_bool(ToBoolOp op, const void* x, uint8_t* y, int64_t n, cudaStream_t stream);

enum class CompareOp : int { kEqual, kLess, kLessOrEqual, kGreater, kGreaterOrEqual };

// out[i] = a op b as a bool byte, broadcast like binary(); dtype float32, int32 or int64.
Status compare(CompareOp op, DType dtype, const void* a, const Strides& a_strides, const void* b,
               const Strides& b_strides, uint8_t* out, const IndexSpace& space, cudaStream_t stream);

// out[i] = cond ? x : y (cond a bool byte), each operand broadcast through its strides; elements of
// 1, 2, 4 or 8 bytes.
Status where(size_t elem_size, const uint8_t* cond, const Strides& cond_strides, const void* x,
             const Strides& x_strides, const void* y, const Strides& y_strides, void* out, const IndexSpace& space,
             cudaStream_t stream);

// y[i] = x[i] converted between float32, int32, int64 and bool (C++ conversions: floats truncate
// toward zero; to bool is != 0), and between float32 and float16 / bfloat16 (round to nearest even).
bool cast_supported(DType from, DType to);
Status cast(DType from, const void* x, DType to, void* y, int64_t n, cudaStream_t stream);

}  // namespace hs::cuda
