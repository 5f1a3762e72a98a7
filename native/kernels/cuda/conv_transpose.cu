// ConvTranspose as a gather over the taps that reach each output element (conv_transpose.cuh).
#include "kernels/cuda/conv_transpose.cuh"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/grid_stride.cuh"

namespace hs::cuda {
namespace {

// The input position whose tap k lands on output position o along axis a, or -1 when none does.
__device__ __forceinline__ int64_t source_of(const ConvTransposeAxis& a, int64_t o, int64_t k) {
  const int64_t p = o + a.pad - k * a.dilation;
  if (p < 0 || p % a.stride != 0) return -1;
  const int64_t i = p / a.stride;
  return i < a.in ? i : -1;
}

__global__ void conv_transpose_kernel(ConvTransposeArgs a, int64_t total) {
  const ConvTransposeAxis &ad = a.axes[0], &ah = a.axes[1], &aw = a.axes[2];
  const int64_t c_per_group = a.in_channels / a.groups, m_per_group = a.out_channels / a.groups;
  const int64_t in_pixels = ad.in * ah.in * aw.in, taps = ad.kernel * ah.kernel * aw.kernel;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t r = i;
    const int64_t ow = r % aw.out; r /= aw.out;
    const int64_t oh = r % ah.out; r /= ah.out;
    const int64_t od = r % ad.out; r /= ad.out;
    const int64_t m = r % a.out_channels, n = r / a.out_channels;
    const int64_t g = m / m_per_group, m_in_group = m % m_per_group;
    const float* x_group = a.x + (n * a.in_channels + g * c_per_group) * in_pixels;
    const float* w_group = a.w + (g * c_per_group * m_per_group + m_in_group) * taps;
    const int64_t w_channel_stride = m_per_group * taps;
    float acc = a.bias ? a.bias[m] : 0.f;
    for (int64_t kd = 0; kd < ad.kernel; ++kd) {
      const int64_t id = source_of(ad, od, kd);
      if (id < 0) continue;
      for (int64_t kh = 0; kh < ah.kernel; ++kh) {
        const int64_t ih = source_of(ah, oh, kh);
        if (ih < 0) continue;
        for (int64_t kw = 0; kw < aw.kernel; ++kw) {
          const int64_t iw = source_of(aw, ow, kw);
          if (iw < 0) continue;
          const float* xp = x_group + (id * ah.in + ih) * aw.in + iw;
          const float* wp = w_group + (kd * ah.kernel + kh) * aw.kernel + kw;
          for (int64_t c = 0; c < c_per_group; ++c) acc += xp[c * in_pixels] * wp[c * w_channel_stride];
        }
      }
    }
    a.y[i] = acc;
  }
}

}  // namespace

Status conv_transpose_f32(const ConvTransposeArgs& a, cudaStream_t stream) {
  if (a.groups <= 0 || a.in_channels % a.groups || a.out_channels % a.groups)
    HS_FAIL(kShape, "conv_transpose: channels ", a.in_channels, " -> ", a.out_channels, " do not split into ", a.groups, " groups");
  int64_t total = a.batch * a.out_channels;
  for (const ConvTransposeAxis& ax : a.axes) {
    if (ax.in < 1 || ax.out < 1 || ax.kernel < 1 || ax.stride < 1 || ax.dilation < 1)
      HS_FAIL(kShape, "conv_transpose: an axis has a non-positive size, kernel, stride or dilation");
    total *= ax.out;
  }
  if (total == 0) return Status::ok();
  if (!a.x || !a.w || !a.y) HS_FAIL(kInvalidArgument, "conv_transpose: null operand");
  conv_transpose_kernel<<<grid_stride_blocks(total), kGridStrideThreads, 0, stream>>>(a, total);
  HS_CUDA_CHECK_LAUNCH("conv_transpose_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
