// Reductions: one warp per output element; its lanes stride over the reduced index space (coalesced
// when the reduced axes are innermost, as for LayerNorm-style and global-pool reductions) and
// combine with shuffles. LogSumExp takes two passes (max, then the sum of exp(x - max)). An empty
// reduction gives the operator's identity (0, 1, -inf, +inf; NaN for Mean).
#include "kernels/cuda/reduce.cuh"

#include <cmath>

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__device__ __forceinline__ float combine(ReduceOp op, float a, float b) {
  switch (op) {
    case ReduceOp::kMax: return (a != a || b != b) ? a + b : fmaxf(a, b);
    case ReduceOp::kMin: return (a != a || b != b) ? a + b : fminf(a, b);
    case ReduceOp::kProd: return a * b;
    default: return a + b;
  }
}

__device__ __forceinline__ float identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMax: return -INFINITY;
    case ReduceOp::kMin: return INFINITY;
    case ReduceOp::kProd: return 1.f;
    default: return 0.f;
  }
}

__device__ __forceinline__ float prepare(ReduceOp op, float x) {
  switch (op) {
    case ReduceOp::kL1: return fabsf(x);
    case ReduceOp::kL2:
    case ReduceOp::kSumSquare: return x * x;
    default: return x;
  }
}

__device__ __forceinline__ float warp_combine(ReduceOp op, float v) {
  for (int off = 16; off > 0; off >>= 1) v = combine(op, v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

__global__ void reduce_kernel(ReduceArgs a, int64_t outputs, int64_t count) {
  const int lane = threadIdx.x % 32;
  const int64_t out = (int64_t)blockIdx.x * kWarpsPerBlock + threadIdx.x / 32;
  if (out >= outputs) return;
  const float* base = a.x + strided_offset(a.kept, a.kept_strides, out);
  const ReduceOp op = a.op == ReduceOp::kLogSumExp ? ReduceOp::kMax : a.op;
  float acc = identity(op);
  for (int64_t r = lane; r < count; r += 32) acc = combine(op, acc, prepare(op, base[strided_offset(a.reduced, a.reduced_strides, r)]));
  acc = warp_combine(op, acc);
  if (a.op == ReduceOp::kLogSumExp) {
    const float max = acc;
    const bool finite = fabsf(max) < INFINITY;  // else the result is max: -inf (empty or all -inf), +inf or NaN
    float sum = 0.f;
    if (finite)
      for (int64_t r = lane; r < count; r += 32) sum += expf(base[strided_offset(a.reduced, a.reduced_strides, r)] - max);
    sum = warp_combine(ReduceOp::kSum, sum);
    acc = finite ? logf(sum) + max : max;
  } else if (a.op == ReduceOp::kMean) {
    acc = acc / (float)count;
  } else if (a.op == ReduceOp::kL2) {
    acc = sqrtf(acc);
  }
  if (lane == 0) a.y[out] = acc;
}

}  // namespace

Status reduce_f32(const ReduceArgs& args, cudaStream_t stream) {
  if (args.kept.rank < 0 || args.kept.rank > kMaxDims || args.reduced.rank < 0 || args.reduced.rank > kMaxDims)
    HS_FAIL(kShape, "reduce: rank out of range");
  int64_t outputs = 1, count = 1;
  for (int i = 0; i < args.kept.rank; ++i) outputs *= args.kept.dims[i];
  for (int i = 0; i < args.reduced.rank; ++i) count *= args.reduced.dims[i];
  if (outputs == 0) return Status::ok();
  if (!args.y || (count > 0 && !args.x)) HS_FAIL(kInvalidArgument, "reduce: null operand");
  const int64_t blocks = (outputs + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (blocks > 0x7fffffff) HS_FAIL(kShape, "reduce: ", outputs, " outputs exceed the CUDA grid");
  reduce_kernel<<<(unsigned)blocks, kWarpsPerBlock * 32, 0, stream>>>(args, outputs, count);
  HS_CUDA_CHECK_LAUNCH("reduce_kernel");
  return Status::ok();
}

namespace {

// Whether (v, i) beats (best, at): a NaN beats a number; equal values (or two NaNs) go by position.
// at < 0 is a lane that saw nothing.
__device__ __forceinline__ bool beats(float v, int64_t i, float best, int64_t at, bool max, bool last) {
  if (i < 0) return false;
  if (at < 0) return true;
  const bool v_nan = v != v, best_nan = best != best;
  if (v_nan != best_nan) return v_nan;
  if (v_nan || v == best) return last ? i > at : i < at;
  return max ? v > best : v < best;
}

__global__ void argminmax_kernel(const float* __restrict__ x, int64_t outer, int64_t axis_len, int64_t inner,
                                 bool max, bool last, int64_t* __restrict__ y) {
  const int lane = threadIdx.x % 32;
  const int64_t outputs = outer * inner;
  for (int64_t out = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32; out < outputs;
       out += (int64_t)gridDim.x * blockDim.x / 32) {
    const float* row = x + (out / inner) * axis_len * inner + out % inner;
    float best = 0.f;
    int64_t at = -1;
    for (int64_t a = lane; a < axis_len; a += 32) {
      const float v = row[a * inner];
      if (beats(v, a, best, at, max, last)) best = v, at = a;
    }
    for (int off = 16; off > 0; off >>= 1) {
      const float v = __shfl_xor_sync(0xffffffffu, best, off);
      const int64_t i = __shfl_xor_sync(0xffffffffu, at, off);
      if (beats(v, i, best, at, max, last)) best = v, at = i;
    }
    if (lane == 0) y[out] = at < 0 ? 0 : at;
  }
}

}  // namespace

Status argminmax_f32(const float* x, int64_t outer, int64_t axis_len, int64_t inner, bool max, bool select_last,
                     int64_t* y, cudaStream_t stream) {
  const int64_t outputs = outer * inner;
  if (outputs == 0) return Status::ok();
  if (axis_len <= 0) HS_FAIL(kShape, "argminmax: the axis is empty");
  if (!x || !y) HS_FAIL(kInvalidArgument, "argminmax: null operand");
  const int64_t blocks = (outputs + kWarpsPerBlock - 1) / kWarpsPerBlock;
  argminmax_kernel<<<(unsigned)(blocks < 65535 * 8 ? blocks : 65535 * 8), kWarpsPerBlock * 32, 0, stream>>>(
      x, outer, axis_len, inner, max, select_last, y);
  HS_CUDA_CHECK_LAUNCH("argminmax_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
