// Pooling: one thread per output element walks its window. Max ignores padding (and propagates
// NaN); average divides by the window positions inside the input, or, with count_include_pad,
// inside the padded input (a ceil_mode window hanging past the end pad counts only up to it).
#include "kernels/cuda/pool.cuh"

#include <cmath>

#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

__global__ void pool_kernel(PoolArgs a, int64_t total) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= total) return;
  int64_t o[kPoolAxes], start[kPoolAxes];
  int64_t rest = i;
  for (int d = kPoolAxes - 1; d >= 0; --d) {
    o[d] = rest % a.out[d];
    rest /= a.out[d];
    start[d] = o[d] * a.stride[d] - a.pad_begin[d];
  }
  const float* x = a.x + rest * a.in[0] * a.in[1] * a.in[2];  // rest: the plane
  float acc = a.max ? -INFINITY : 0.f;
  int64_t inside = 0, padded = 0;
  for (int64_t kd = 0; kd < a.kernel[0]; ++kd) {
    const int64_t id = start[0] + kd * a.dilation[0];
    const bool d_padded = id >= -a.pad_begin[0] && id < a.in[0] + a.pad_end[0];
    for (int64_t kh = 0; kh < a.kernel[1]; ++kh) {
      const int64_t ih = start[1] + kh * a.dilation[1];
      const bool row_padded = d_padded && ih >= -a.pad_begin[1] && ih < a.in[1] + a.pad_end[1];
      for (int64_t kw = 0; kw < a.kernel[2]; ++kw) {
        const int64_t iw = start[2] + kw * a.dilation[2];
        if (row_padded && iw >= -a.pad_begin[2] && iw < a.in[2] + a.pad_end[2]) ++padded;
        if (id < 0 || id >= a.in[0] || ih < 0 || ih >= a.in[1] || iw < 0 || iw >= a.in[2]) continue;
        const float v = x[(id * a.in[1] + ih) * a.in[2] + iw];
        if (a.max) acc = (v != v || acc != acc) ? v + acc : fmaxf(acc, v);
        else acc += v;
        ++inside;
      }
    }
  }
  if (!a.max) acc /= (float)(a.count_include_pad ? padded : inside);
  a.y[i] = acc;
}

}  // namespace

Status pool_f32(const PoolArgs& args, cudaStream_t stream) {
  const int64_t total = args.planes * args.out[0] * args.out[1] * args.out[2];
  if (total == 0) return Status::ok();
  if (!args.x || !args.y) HS_FAIL(kInvalidArgument, "pool: null operand");
  const int64_t blocks = (total + 255) / 256;
  if (blocks > 0x7fffffff) HS_FAIL(kShape, "pool: output too large for the CUDA grid");
  pool_kernel<<<(unsigned)blocks, 256, 0, stream>>>(args, total);
  HS_CUDA_CHECK_LAUNCH("pool_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
