// Pooling: one thread per output element walks its window. Max ignores padding (and propagates
// NaN); average divides by the window positions inside the input, or, with count_include_pad,
// inside the padded input (a ceil_mode window hanging past the end pad counts only up to it).
#include "kernels/cuda/pool.cuh"

#include <cmath>

#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

__global__ void pool2d_kernel(Pool2dArgs a, int64_t total) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= total) return;
  const int64_t ow = i % a.out_w, oh = (i / a.out_w) % a.out_h, plane = i / (a.out_w * a.out_h);
  const float* x = a.x + plane * a.in_h * a.in_w;
  const int64_t h0 = oh * a.stride_h - a.pad_top, w0 = ow * a.stride_w - a.pad_left;
  float acc = a.max ? -INFINITY : 0.f;
  int64_t inside = 0, padded = 0;
  for (int64_t kh = 0; kh < a.kernel_h; ++kh) {
    const int64_t ih = h0 + kh * a.dilation_h;
    const bool row_padded = ih >= -a.pad_top && ih < a.in_h + a.pad_bottom;
    for (int64_t kw = 0; kw < a.kernel_w; ++kw) {
      const int64_t iw = w0 + kw * a.dilation_w;
      if (row_padded && iw >= -a.pad_left && iw < a.in_w + a.pad_right) ++padded;
      if (ih < 0 || ih >= a.in_h || iw < 0 || iw >= a.in_w) continue;
      const float v = x[ih * a.in_w + iw];
      if (a.max) acc = (v != v || acc != acc) ? v + acc : fmaxf(acc, v);
      else acc += v;
      ++inside;
    }
  }
  if (!a.max) acc /= (float)(a.count_include_pad ? padded : inside);
  a.y[i] = acc;
}

}  // namespace

Status pool2d_f32(const Pool2dArgs& args, cudaStream_t stream) {
  const int64_t total = args.planes * args.out_h * args.out_w;
  if (total == 0) return Status::ok();
  if (!args.x || !args.y) HS_FAIL(kInvalidArgument, "pool2d: null operand");
  const int64_t blocks = (total + 255) / 256;
  if (blocks > 0x7fffffff) HS_FAIL(kShape, "pool2d: output too large for the CUDA grid");
  pool2d_kernel<<<(unsigned)blocks, 256, 0, stream>>>(args, total);
  HS_CUDA_CHECK_LAUNCH("pool2d_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
