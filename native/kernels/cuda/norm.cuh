// Normalisations: LayerNormalization, Group- and InstanceNormalization, BatchNormalization, LRN and Softmax /
// LogSoftmax (with an optional additive, broadcast mask, for attention scores).
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

// y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * scale + bias, over `cols` contiguous elements.
// scale (and bias, which may be null) hold `cols` elements. mean_out / inv_std_out, where not null,
// receive each row's mean and 1 / sqrt(var + eps) (LayerNormalization's optional outputs).
Status layer_norm_f32(const float* x, const float* scale, const float* bias, float* y, int64_t rows, int64_t cols,
                      float eps, cudaStream_t stream, float* mean_out = nullptr, float* inv_std_out = nullptr);

// GroupNormalization over x [batch, groups * group_channels, spatial] (InstanceNormalization: one
// channel per group): each (batch, group) run of group_channels * spatial elements normalised as
// above, then y = . * scale[c] + bias[c] per channel c (per_channel; opset 21) or . * scale[g] +
// bias[g] per group (opset 18).
Status group_norm_f32(const float* x, const float* scale, const float* bias, float* y, int64_t batch, int64_t groups,
                      int64_t group_channels, int64_t spatial, bool per_channel, float eps, cudaStream_t stream);

// Inference BatchNormalization over NCHW-like x [batch, channels, spatial...]:
// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c].
Status batch_norm_f32(const float* x, const float* scale, const float* bias, const float* mean, const float* var,
                      float* y, int64_t batch, int64_t channels, int64_t spatial, float eps, cudaStream_t stream);

// LRN over x [batch, channels, spatial]: y = x / (bias + alpha / size * sum of x^2 over the channel
// window [c - (size-1)/2, c + size/2] clipped to [0, channels)) ^ beta.
Status lrn_f32(const float* x, float* y, int64_t batch, int64_t channels, int64_t spatial, int64_t size, float alpha,
               float beta, float bias, cudaStream_t stream);

// An additive mask read at mask[strided_offset(rows, row_strides, r) + j * col_stride] for row r,
// column j: broadcast through zero strides.
struct RowMask {
  const float* data = nullptr;
  IndexSpace rows;
  Strides row_strides;
  int64_t col_stride = 0;
};

// Softmax (or log-softmax) of each contiguous row of `cols` elements, after adding `mask` (when
// mask.data) and multiplying by `scale` first: y = softmax(scale * x + mask).
Status softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t cols, bool log, float scale,
                        const RowMask& mask, cudaStream_t stream);

// Softmax over the middle axis of [outer, axis, inner] (inner > 1: a strided axis).
Status softmax_axis_f32(const float* x, float* y, int64_t outer, int64_t axis, int64_t inner, bool log,
                        cudaStream_t stream);

}  // namespace hs::cuda
