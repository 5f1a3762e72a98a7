// Elementwise kernels. Grid-stride loops over the output, one element per thread per step.
// Binary operators take a fast path when both operands are contiguous and unbroadcast (flat
// indices), else decompose each output index against the operands' strides (layout.h).
#include "kernels/cuda/elementwise.cuh"

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/element_size.cuh"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/movement.cuh"

namespace hs::cuda {
namespace {

__device__ __forceinline__ float unary_value(UnaryOp op, float alpha, float beta, float x) {
  switch (op) {
    case UnaryOp::kRelu: return x < 0.f ? 0.f : x;
    case UnaryOp::kSigmoid: return sigmoidf(x);
    case UnaryOp::kTanh: return tanhf(x);
    case UnaryOp::kErf: return erff(x);
    case UnaryOp::kSqrt: return sqrtf(x);
    case UnaryOp::kExp: return expf(x);
    case UnaryOp::kLog: return logf(x);
    case UnaryOp::kAbs: return fabsf(x);
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kReciprocal: return 1.f / x;
    case UnaryOp::kFloor: return floorf(x);
    case UnaryOp::kCeil: return ceilf(x);
    case UnaryOp::kLeakyRelu: return x < 0.f ? x * alpha : x;
    case UnaryOp::kElu: return x < 0.f ? alpha * expm1f(x) : x;
    case UnaryOp::kHardSigmoid: return clamp_keep_nan(x * alpha + beta, 0.f, 1.f);
    case UnaryOp::kHardSwish: return apply_act(Epilogue{Act::kHardSwish}, x);
    case UnaryOp::kSoftplus: return x > 20.f ? x : log1pf(expf(x));
    case UnaryOp::kSilu: return x * sigmoidf(x);
    case UnaryOp::kClip: return clamp_keep_nan(x, alpha, beta);
    case UnaryOp::kSin: return sinf(x);
    case UnaryOp::kCos: return cosf(x);
    case UnaryOp::kSoftsign: return x / (1.f + fabsf(x));
    case UnaryOp::kIdentity: return x;
    case UnaryOp::kRound: return rintf(x);  // halves to even, as ONNX Round
    case UnaryOp::kSign: return x > 0.f ? 1.f : x < 0.f ? -1.f : x;
    case UnaryOp::kTan: return tanf(x);
    case UnaryOp::kAsin: return asinf(x);
    case UnaryOp::kAcos: return acosf(x);
    case UnaryOp::kAtan: return atanf(x);
    case UnaryOp::kSinh: return sinhf(x);
    case UnaryOp::kCosh: return coshf(x);
    case UnaryOp::kAsinh: return asinhf(x);
    case UnaryOp::kAcosh: return acoshf(x);
    case UnaryOp::kAtanh: return atanhf(x);
    case UnaryOp::kSelu: return beta * (x > 0.f ? x : alpha * expm1f(x));
    case UnaryOp::kCelu: return x > 0.f ? x : alpha * expm1f(x / alpha);  // max(0, x) + min(0, ...) for alpha > 0, NaN kept
    case UnaryOp::kThresholdedRelu: return x > alpha ? x : 0.f;
    case UnaryOp::kMish: return x * tanhf(x > 20.f ? x : log1pf(expf(x)));
    case UnaryOp::kScale: return alpha * x;
    case UnaryOp::kGelu: return apply_act(Epilogue{Act::kGelu}, x);
    case UnaryOp::kGeluTanh: return apply_act(Epilogue{Act::kGeluTanh}, x);
    case UnaryOp::kShrink: return x < -alpha ? x + beta : x > alpha ? x - beta : 0.f;
  }
  return x;
}

__global__ void unary_kernel(UnaryOp op, float alpha, float beta, const float* __restrict__ x, float* __restrict__ y,
                             int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] = unary_value(op, alpha, beta, x[i]);
}

template <typename T>
__device__ __forceinline__ T binary_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return b == T(0) ? T(0) : a / b;  // integer division by zero: 0, not a trap
    case BinaryOp::kMax: return a > b ? a : b;
    case BinaryOp::kMin: return a < b ? a : b;
    case BinaryOp::kMod: {
      if (b == T(0)) return T(0);
      T r = a % b;
      if constexpr (std::is_signed<T>::value)
        if (r != T(0) && ((r < T(0)) != (b < T(0)))) r += b;
      return r;
    }
    case BinaryOp::kFmod: return b == T(0) ? T(0) : a % b;
    case BinaryOp::kAnd: return T(a && b);
    case BinaryOp::kOr: return T(a || b);
    case BinaryOp::kXor: return T((a != T(0)) != (b != T(0)));
    case BinaryOp::kPow:
    case BinaryOp::kPRelu: break;  // float only, below
  }
  return a;
}

template <>
__device__ __forceinline__ float binary_value<float>(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
    case BinaryOp::kMax: return (a != a || b != b) ? a + b : fmaxf(a, b);  // NaN propagates
    case BinaryOp::kMin: return (a != a || b != b) ? a + b : fminf(a, b);
    case BinaryOp::kPow: return b == 2.f ? a * a : powf(a, b);
    case BinaryOp::kPRelu: return a < 0.f ? a * b : a;
    case BinaryOp::kFmod: return fmodf(a, b);
    case BinaryOp::kMod:
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kXor: break;  // not float ops
  }
  return a;
}

__global__ void to_bool_kernel(ToBoolOp op, const void* __restrict__ x, uint8_t* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (op == ToBoolOp::kNot) {
      y[i] = ((const uint8_t*)x)[i] ? 0 : 1;
      continue;
    }
    const float v = ((const float*)x)[i];
    const bool inf = fabsf(v) > 3.40282347e38f;  // beyond FLT_MAX; false for NaN
    bool r = false;
    switch (op) {
      case ToBoolOp::kIsNaN: r = v != v; break;
      case ToBoolOp::kIsInf: r = inf; break;
      case ToBoolOp::kIsPosInf: r = inf && v > 0.f; break;
      case ToBoolOp::kIsNegInf: r = inf && v < 0.f; break;
      case ToBoolOp::kNot: break;
    }
    y[i] = r ? 1 : 0;
  }
}

template <typename T>
__global__ void binary_flat_kernel(BinaryOp op, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                                   int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = binary_value<T>(op, a[i], b[i]);
}

template <typename T>
__global__ void binary_strided_kernel(BinaryOp op, const T* __restrict__ a, Strides as, const T* __restrict__ b,
                                      Strides bs, T* __restrict__ out, IndexSpace space, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = binary_value<T>(op, a[strided_offset(space, as, i)], b[strided_offset(space, bs, i)]);
}

bool is_contiguous(const Strides& s, const IndexSpace& space) {
  int64_t expect = 1;
  for (int d = space.rank - 1; d >= 0; --d) {
    if (space.dims[d] != 1 && s.s[d] != expect) return false;
    expect *= space.dims[d];
  }
  return true;
}

template <typename T>
Status launch_binary(BinaryOp op, const void* a, const Strides& as, const void* b, const Strides& bs, void* out,
                     const IndexSpace& space, int64_t n, cudaStream_t stream) {
  if (is_contiguous(as, space) && is_contiguous(bs, space))
    binary_flat_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, (const T*)a, (const T*)b, (T*)out, n);
  else
    binary_strided_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, (const T*)a, as, (const T*)b, bs, (T*)out,
                                                                     space, n);
  HS_CUDA_CHECK_LAUNCH("binary_kernel");
  return Status::ok();
}

template <typename T>
__global__ void compare_kernel(CompareOp op, const T* __restrict__ a, Strides as, const T* __restrict__ b, Strides bs,
                               uint8_t* __restrict__ out, IndexSpace space, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const T x = a[strided_offset(space, as, i)], y = b[strided_offset(space, bs, i)];
    bool r = false;
    switch (op) {
      case CompareOp::kEqual: r = x == y; break;
      case CompareOp::kLess: r = x < y; break;
      case CompareOp::kLessOrEqual: r = x <= y; break;
      case CompareOp::kGreater: r = x > y; break;
      case CompareOp::kGreaterOrEqual: r = x >= y; break;
    }
    out[i] = r ? 1 : 0;
  }
}

template <typename T>
__global__ void where_kernel(const uint8_t* __restrict__ cond, Strides cs, const T* __restrict__ x, Strides xs,
                             const T* __restrict__ y, Strides ys, T* __restrict__ out, IndexSpace space, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = cond[strided_offset(space, cs, i)] ? x[strided_offset(space, xs, i)] : y[strided_offset(space, ys, i)];
}

template <typename From, typename To>
__global__ void cast_kernel(const From* __restrict__ x, To* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if constexpr (std::is_same<To, bool>::value) y[i] = x[i] != From(0);
    else y[i] = static_cast<To>(x[i]);
  }
}

int64_t space_numel(const IndexSpace& space) {
  int64_t n = 1;
  for (int d = 0; d < space.rank; ++d) n *= space.dims[d];
  return n;
}

template <typename From>
Status launch_cast(const void* x, DType to, void* y, int64_t n, cudaStream_t stream) {
  const From* in = static_cast<const From*>(x);
  switch (to) {
    case DType::kFloat32: cast_kernel<From, float><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(in, (float*)y, n); break;
    case DType::kFloat64: cast_kernel<From, double><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(in, (double*)y, n); break;
    case DType::kInt32: cast_kernel<From, int32_t><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(in, (int32_t*)y, n); break;
    case DType::kInt64: cast_kernel<From, int64_t><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(in, (int64_t*)y, n); break;
    case DType::kBool: cast_kernel<From, bool><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(in, (bool*)y, n); break;
    default: HS_FAIL(kType, "cast: to ", dtype_name(to), " is not supported on CUDA");
  }
  HS_CUDA_CHECK_LAUNCH("cast_kernel");
  return Status::ok();
}

}  // namespace

Status compare(CompareOp op, DType dtype, const void* a, const Strides& a_strides, const void* b,
               const Strides& b_strides, uint8_t* out, const IndexSpace& space, cudaStream_t stream) {
  if (space.rank < 0 || space.rank > kMaxDims) HS_FAIL(kInvalidArgument, "compare: rank ", space.rank, " out of range");
  const int64_t n = space_numel(space);
  if (n == 0) return Status::ok();
  if (!a || !b || !out) HS_FAIL(kInvalidArgument, "compare: null pointer");
  switch (dtype) {
    case DType::kFloat32:
      compare_kernel<float><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, (const float*)a, a_strides, (const float*)b, b_strides, out, space, n);
      break;
    case DType::kInt32:
      compare_kernel<int32_t><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, (const int32_t*)a, a_strides, (const int32_t*)b, b_strides, out, space, n);
      break;
    case DType::kInt64:
      compare_kernel<int64_t><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, (const int64_t*)a, a_strides, (const int64_t*)b, b_strides, out, space, n);
      break;
    default: HS_FAIL(kType, "compare: dtype ", dtype_name(dtype), " is not supported on CUDA");
  }
  HS_CUDA_CHECK_LAUNCH("compare_kernel");
  return Status::ok();
}

Status where(size_t elem_size, const uint8_t* cond, const Strides& cond_strides, const void* x,
             const Strides& x_strides, const void* y, const Strides& y_strides, void* out, const IndexSpace& space,
             cudaStream_t stream) {
  if (space.rank < 0 || space.rank > kMaxDims) HS_FAIL(kInvalidArgument, "where: rank ", space.rank, " out of range");
  const int64_t n = space_numel(space);
  if (n == 0) return Status::ok();
  if (!cond || !x || !y || !out) HS_FAIL(kInvalidArgument, "where: null pointer");
  return by_element_size(elem_size, "where", [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(cond, cond_strides, (const T*)x, x_strides,
                                                                            (const T*)y, y_strides, (T*)out, space, n);
    HS_CUDA_CHECK_LAUNCH("where_kernel");
    return Status::ok();
  });
}

namespace {

// float32 <-> float16 / bfloat16: the converting copy of movement.cuh (round to nearest even).
bool is_16bit_float_cast(DType from, DType to) {
  auto half = [](DType t) { return t == DType::kFloat16 || t == DType::kBFloat16; };
  return (from == DType::kFloat32 && half(to)) || (half(from) && to == DType::kFloat32);
}

}  // namespace

bool cast_supported(DType from, DType to) {
  auto ok = [](DType t) {
    return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kInt32 || t == DType::kInt64 || t == DType::kBool;
  };
  return (ok(from) && ok(to)) || is_16bit_float_cast(from, to);
}

Status cast(DType from, const void* x, DType to, void* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "cast: null pointer");
  if (is_16bit_float_cast(from, to)) {
    IndexSpace flat;
    flat.rank = 1, flat.dims[0] = n;
    Strides unit;
    unit.s[0] = 1;
    return strided_convert(from, x, unit, to, y, flat, stream);
  }
  switch (from) {
    case DType::kFloat32: return launch_cast<float>(x, to, y, n, stream);
    case DType::kFloat64: return launch_cast<double>(x, to, y, n, stream);
    case DType::kInt32: return launch_cast<int32_t>(x, to, y, n, stream);
    case DType::kInt64: return launch_cast<int64_t>(x, to, y, n, stream);
    case DType::kBool: return launch_cast<bool>(x, to, y, n, stream);
    default: HS_FAIL(kType, "cast: from ", dtype_name(from), " is not supported on CUDA");
  }
}

Status unary_f32(UnaryOp op, float alpha, float beta, const float* x, float* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "unary_f32: null pointer");
  unary_kernel<<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, alpha, beta, x, y, n);
  HS_CUDA_CHECK_LAUNCH("unary_kernel");
  return Status::ok();
}

Status to_bool(ToBoolOp op, const void* x, uint8_t* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "to_bool: null pointer");
  to_bool_kernel<<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(op, x, y, n);
  HS_CUDA_CHECK_LAUNCH("to_bool_kernel");
  return Status::ok();
}

Status binary(BinaryOp op, DType dtype, const void* a, const Strides& a_strides, const void* b,
              const Strides& b_strides, void* out, const IndexSpace& space, cudaStream_t stream) {
  if (space.rank < 0 || space.rank > kMaxDims) HS_FAIL(kInvalidArgument, "binary: rank ", space.rank, " out of range");
  int64_t n = 1;
  for (int d = 0; d < space.rank; ++d) n *= space.dims[d];
  if (n == 0) return Status::ok();
  if (!a || !b || !out) HS_FAIL(kInvalidArgument, "binary: null pointer");
  const bool float_only = op == BinaryOp::kPow || op == BinaryOp::kPRelu;
  const bool logical = op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kXor;
  switch (dtype) {
    case DType::kFloat32:
      if (!logical && op != BinaryOp::kMod) return launch_binary<float>(op, a, a_strides, b, b_strides, out, space, n, stream);
      break;
    case DType::kInt32:
      if (!float_only && !logical) return launch_binary<int32_t>(op, a, a_strides, b, b_strides, out, space, n, stream);
      break;
    case DType::kInt64:
      if (!float_only && !logical) return launch_binary<int64_t>(op, a, a_strides, b, b_strides, out, space, n, stream);
      break;
    case DType::kBool:
      if (logical) return launch_binary<uint8_t>(op, a, a_strides, b, b_strides, out, space, n, stream);
      break;
    default: break;
  }
  HS_FAIL(kType, "binary: dtype ", dtype_name(dtype), " is not supported by this operator on CUDA");
}

}  // namespace hs::cuda
