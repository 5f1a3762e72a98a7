// BatchNormalization (inference): one thread per element, the channel's scale and shift computed
// from its four parameters in place. LayerNormalization: one block of 256 threads per row, two passes over the row (mean, then the
// mean of squared deviations; the row stays in L1/L2), block reductions through warp shuffles and
// a small shared array. Softmax: one warp per row (rows of attention scores are short), three
// passes (max, sum of exp, write); a strided-axis variant gives one thread per (outer, inner) column.
// Group / instance normalisation: the layer-norm kernel over (n, group) rows, scale and bias per
// channel. LRN: one thread per element.
#include "kernels/cuda/norm.cuh"

#include <cmath>

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/grid_stride.cuh"
#include "kernels/cuda/warp_reduce.cuh"

namespace hs::cuda {
namespace {

constexpr int kNormThreads = 256, kSoftmaxWarps = 8;

using device::warp_max;
using device::warp_sum;
__device__ __forceinline__ float block_sum(float v) { return device::block_sum<kNormThreads>(v); }

// Scale and bias per column; or, with row_groups > 0, per channel of a row of channels of col_block
// elements each (channel (r % row_groups) * (cols / col_block) + j / col_block).
struct RowAffine {
  const float* scale;
  const float* bias;
  int64_t row_groups;
  int64_t col_block;
};

__global__ void layer_norm_kernel(const float* __restrict__ x, RowAffine affine, float* __restrict__ y, int64_t cols, float eps,
                                  float* __restrict__ mean_out, float* __restrict__ inv_std_out) {
  const float* row = x + blockIdx.x * cols;
  float* out = y + blockIdx.x * cols;
  float s = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) s += row[j];
  const float mean = block_sum(s) / (float)cols;
  float sq = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) {
    const float d = row[j] - mean;
    sq += d * d;
  }
  const float inv = rsqrtf(block_sum(sq) / (float)cols + eps);
  if (threadIdx.x == 0) {
    if (mean_out) mean_out[blockIdx.x] = mean;
    if (inv_std_out) inv_std_out[blockIdx.x] = inv;
  }
  if (affine.row_groups > 0) {
    const int64_t first = (blockIdx.x % affine.row_groups) * (cols / affine.col_block);
    for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) {
      const int64_t c = first + j / affine.col_block;
      out[j] = (row[j] - mean) * inv * affine.scale[c] + (affine.bias ? affine.bias[c] : 0.f);
    }
    return;
  }
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads)
    out[j] = (row[j] - mean) * inv * affine.scale[j] + (affine.bias ? affine.bias[j] : 0.f);
}

__global__ void softmax_rows_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t rows, int64_t cols,
                                    bool log, float scale, RowMask mask) {
  const int lane = threadIdx.x % 32;
  const int64_t r = (int64_t)blockIdx.x * kSoftmaxWarps + threadIdx.x / 32;
  if (r >= rows) return;
  const float* row = x + r * cols;
  float* out = y + r * cols;
  const float* m = mask.data ? mask.data + strided_offset(mask.rows, mask.row_strides, r) : nullptr;
  auto value = [&](int64_t j) { return row[j] * scale + (m ? m[j * mask.col_stride] : 0.f); };
  float mx = -INFINITY;
  for (int64_t j = lane; j < cols; j += 32) mx = fmaxf(mx, value(j));
  mx = warp_max(mx);
  float sum = 0.f;
  for (int64_t j = lane; j < cols; j += 32) sum += expf(value(j) - mx);
  sum = warp_sum(sum);
  if (log) {
    const float lse = logf(sum) + mx;
    for (int64_t j = lane; j < cols; j += 32) out[j] = value(j) - lse;
  } else {
    const float inv = 1.f / sum;
    for (int64_t j = lane; j < cols; j += 32) out[j] = expf(value(j) - mx) * inv;
  }
}

__global__ void softmax_axis_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t outer, int64_t axis,
                                    int64_t inner, bool log) {
  const int64_t col = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (col >= outer * inner) return;
  const int64_t o = col / inner, i = col - o * inner;
  const float* in = x + o * axis * inner + i;
  float* out = y + o * axis * inner + i;
  float mx = -INFINITY;
  for (int64_t a = 0; a < axis; ++a) mx = fmaxf(mx, in[a * inner]);
  float sum = 0.f;
  for (int64_t a = 0; a < axis; ++a) sum += expf(in[a * inner] - mx);
  const float lse = logf(sum) + mx, inv = 1.f / sum;
  for (int64_t a = 0; a < axis; ++a) out[a * inner] = log ? in[a * inner] - lse : expf(in[a * inner] - mx) * inv;
}

__global__ void batch_norm_kernel(const float* __restrict__ x, const float* __restrict__ scale,
                                  const float* __restrict__ bias, const float* __restrict__ mean,
                                  const float* __restrict__ var, float* __restrict__ y, int64_t channels,
                                  int64_t spatial, float eps, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t c = (i / spatial) % channels;
    const float s = scale[c] / sqrtf(var[c] + eps);
    y[i] = (x[i] - mean[c]) * s + bias[c];
  }
}

}  // namespace

Status batch_norm_f32(const float* x, const float* scale, const float* bias, const float* mean, const float* var,
                      float* y, int64_t batch, int64_t channels, int64_t spatial, float eps, cudaStream_t stream) {
  const int64_t n = batch * channels * spatial;
  if (n == 0) return Status::ok();
  if (!x || !scale || !bias || !mean || !var || !y) HS_FAIL(kInvalidArgument, "batch_norm: null operand");
  const int64_t blocks = (n + 255) / 256;
  batch_norm_kernel<<<(unsigned)(blocks < 65535 * 8 ? blocks : 65535 * 8), 256, 0, stream>>>(x, scale, bias, mean, var,
                                                                                           y, channels, spatial, eps, n);
  HS_CUDA_CHECK_LAUNCH("batch_norm_kernel");
  return Status::ok();
}

Status layer_norm_f32(const float* x, const float* scale, const float* bias, float* y, int64_t rows, int64_t cols,
                      float eps, cudaStream_t stream, float* mean_out, float* inv_std_out) {
  if (rows == 0 || cols == 0) return Status::ok();
  if (!x || !scale || !y) HS_FAIL(kInvalidArgument, "layer_norm: null operand");
  if (rows > 0x7fffffff) HS_FAIL(kShape, "layer_norm: ", rows, " rows exceed the CUDA grid");
  layer_norm_kernel<<<(unsigned)rows, kNormThreads, 0, stream>>>(x, RowAffine{scale, bias, 0, 0}, y, cols, eps, mean_out,
                                                                 inv_std_out);
  HS_CUDA_CHECK_LAUNCH("layer_norm_kernel");
  return Status::ok();
}

Status group_norm_f32(const float* x, const float* scale, const float* bias, float* y, int64_t batch, int64_t groups,
                      int64_t group_channels, int64_t spatial, bool per_channel, float eps, cudaStream_t stream) {
  const int64_t rows = batch * groups, cols = group_channels * spatial;
  if (rows == 0 || cols == 0) return Status::ok();
  if (!x || !scale || !y) HS_FAIL(kInvalidArgument, "group_norm: null operand");
  if (rows > 0x7fffffff) HS_FAIL(kShape, "group_norm: ", rows, " rows exceed the CUDA grid");
  const RowAffine affine{scale, bias, groups, per_channel ? spatial : cols};
  layer_norm_kernel<<<(unsigned)rows, kNormThreads, 0, stream>>>(x, affine, y, cols, eps, nullptr, nullptr);
  HS_CUDA_CHECK_LAUNCH("layer_norm_kernel");
  return Status::ok();
}

namespace {

// One thread per element; the window's squares summed afresh (no running sum to drift), as the CPU.
__global__ void lrn_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t channels, int64_t spatial, int64_t n,
                           int64_t before, int64_t after, float scale, float beta, float bias) {
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    const int64_t c = e / spatial % channels, plane = e - c * spatial;  // plane: element (n, 0, s)
    const int64_t lo = c - before < 0 ? 0 : c - before, hi = c + after < channels ? c + after : channels - 1;
    float sum = 0.f;
    for (int64_t w = lo; w <= hi; ++w) {
      const float v = x[plane + w * spatial];
      sum += v * v;
    }
    y[e] = x[e] / powf(bias + scale * sum, beta);
  }
}

}  // namespace

Status lrn_f32(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial, int64_t size, float alpha,
               float beta, float bias, cudaStream_t stream) {
  const int64_t n = batch * channels * spatial;
  if (n == 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "lrn: null operand");
  if (size <= 0) HS_FAIL(kInvalidArgument, "lrn: size must be positive, got ", size);
  const int64_t before = (size - 1) / 2;
  lrn_kernel<<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(x, y, channels, spatial, n, before, size - 1 - before,
                                                                       alpha / (float)size, beta, bias);
  HS_CUDA_CHECK_LAUNCH("lrn_kernel");
  return Status::ok();
}

Status softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t cols, bool log, float scale,
                        const RowMask& mask, cudaStream_t stream) {
  if (rows == 0 || cols == 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "softmax: null operand");
  const int64_t blocks = (rows + kSoftmaxWarps - 1) / kSoftmaxWarps;
  if (blocks > 0x7fffffff) HS_FAIL(kShape, "softmax: ", rows, " rows exceed the CUDA grid");
  softmax_rows_kernel<<<(unsigned)blocks, kSoftmaxWarps * 32, 0, stream>>>(x, y, rows, cols, log, scale, mask);
  HS_CUDA_CHECK_LAUNCH("softmax_rows_kernel");
  return Status::ok();
}

Status softmax_axis_f32(const float* x, float* y, int64_t outer, int64_t axis, int64_t inner, bool log,
                        cudaStream_t stream) {
  const int64_t cols = outer * inner;
  if (cols == 0 || axis == 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "softmax: null operand");
  const int64_t blocks = (cols + 255) / 256;
  if (blocks > 0x7fffffff) HS_FAIL(kShape, "softmax: too many columns");
  softmax_axis_kernel<<<(unsigned)blocks, 256, 0, stream>>>(x, y, outer, axis, inner, log);
  HS_CUDA_CHECK_LAUNCH("softmax_axis_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
