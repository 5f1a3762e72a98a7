// Resize: tables of taps per axis, then one thread per output element (resize.cuh).
#include "kernels/cuda/resize.cuh"

#include <cstring>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/element_size.cuh"
#include "kernels/cuda/grid_stride.cuh"

namespace hs::cuda {
namespace {

// Where each axis' taps are: its output positions are [first_position, + out_len) of all axes'
// positions, and position x's `width` taps start at entry first_tap + x * width. An index of -1 in
// a position's first tap marks it outside the input.
struct Tables {
  int rank = 0;
  int64_t first_position[kMaxDims] = {};
  int64_t first_tap[kMaxDims] = {};
  int64_t width[kMaxDims] = {};
  int64_t in_stride[kMaxDims] = {};  // input elements between neighbours along the axis
  int32_t* index = nullptr;
  float* weight = nullptr;
};

__global__ void fill_taps_kernel(ResizeArgs a, Tables t, int64_t positions) {
  for (int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; p < positions; p += (int64_t)gridDim.x * blockDim.x) {
    int d = 0;
    while (d + 1 < t.rank && p >= t.first_position[d + 1]) ++d;
    const int64_t x = p - t.first_position[d];
    int32_t* index = t.index + t.first_tap[d] + x * t.width[d];
    float* weight = t.weight + t.first_tap[d] + x * t.width[d];
    if (a.identity[d]) {
      index[0] = (int32_t)x, weight[0] = 1.f;
      continue;
    }
    const cpu::TapShape s = cpu::tap_shape(a.axes[d], a.options);
    if (!cpu::position_taps(x, a.axes[d], a.options, s, index, weight)) index[0] = -1;
  }
}

// Output element i's coordinate along each axis, innermost last.
__device__ __forceinline__ void output_coords(const ResizeArgs& a, int64_t i, int64_t* c) {
  for (int d = a.rank - 1; d >= 0; --d) {
    const int64_t n = a.axes[d].out_len;
    c[d] = i % n;
    i /= n;
  }
}

template <typename T>
__global__ void nearest_kernel(ResizeArgs a, Tables t, int64_t n) {
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t c[kMaxDims];
    output_coords(a, i, c);
    int64_t offset = 0;
    bool outside = false;
    for (int d = 0; d < a.rank; ++d) {
      const int32_t at = t.index[t.first_tap[d] + c[d]];
      outside = outside || at < 0;
      offset += (int64_t)at * t.in_stride[d];
    }
    y[i] = outside ? (T)a.extrapolation_bits : x[offset];
  }
}

// The sum over every combination of the axes' taps (an odometer over the axes, the last fastest) of
// the product of their weights times the input element they select.
__global__ void interpolate_kernel(ResizeArgs a, Tables t, float extrapolation, int64_t n) {
  const float* x = static_cast<const float*>(a.x);
  float* y = static_cast<float*>(a.y);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t c[kMaxDims], tap[kMaxDims], base[kMaxDims];
    output_coords(a, i, c);
    bool outside = false;
    for (int d = 0; d < a.rank; ++d) {
      base[d] = t.first_tap[d] + c[d] * t.width[d];
      tap[d] = 0;
      outside = outside || t.index[base[d]] < 0;
    }
    if (outside) {
      y[i] = extrapolation;
      continue;
    }
    float acc = 0.f;
    for (;;) {
      float w = 1.f;
      int64_t offset = 0;
      for (int d = 0; d < a.rank; ++d) {
        w *= t.weight[base[d] + tap[d]];
        offset += (int64_t)t.index[base[d] + tap[d]] * t.in_stride[d];
      }
      if (w != 0.f) acc += w * x[offset];
      int d = a.rank - 1;
      while (d >= 0 && ++tap[d] == t.width[d]) tap[d--] = 0;
      if (d < 0) break;
    }
    y[i] = acc;
  }
}

Tables layout(const ResizeArgs& a, int64_t* positions, int64_t* taps) {
  Tables t;
  t.rank = a.rank;
  *positions = 0, *taps = 0;
  int64_t stride = 1;
  for (int d = a.rank - 1; d >= 0; --d) t.in_stride[d] = stride, stride *= a.axes[d].in_len;
  for (int d = 0; d < a.rank; ++d) {
    t.width[d] = a.identity[d] ? 1 : cpu::tap_shape(a.axes[d], a.options).width;
    t.first_position[d] = *positions;
    t.first_tap[d] = *taps;
    *positions += a.axes[d].out_len;
    *taps += a.axes[d].out_len * t.width[d];
  }
  return t;
}

template <typename T>
Status launch_nearest(const ResizeArgs& a, const Tables& t, int64_t n, cudaStream_t stream) {
  nearest_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(a, t, n);
  HS_CUDA_CHECK_LAUNCH("resize nearest_kernel");
  return Status::ok();
}

}  // namespace

size_t resize_scratch_bytes(const ResizeArgs& args) {
  int64_t positions, taps;
  layout(args, &positions, &taps);
  return (size_t)taps * (sizeof(int32_t) + sizeof(float));
}

Status resize(const ResizeArgs& a, void* scratch, cudaStream_t stream) {
  if (a.rank < 1 || a.rank > kMaxDims) HS_FAIL(kShape, "resize: rank ", a.rank, " is out of range");
  int64_t n = 1;
  for (int d = 0; d < a.rank; ++d) {
    const cpu::AxisGeometry& g = a.axes[d];
    if (g.in_len < 1 || g.in_len > INT32_MAX || g.out_len < 0)
      HS_FAIL(kShape, "resize: axis ", d, " of length ", g.in_len, " is outside the kernel's range");
    n *= g.out_len;
  }
  if (n == 0) return Status::ok();
  if (!a.x || !a.y || !scratch) HS_FAIL(kInvalidArgument, "resize: null operand");
  const bool nearest = a.options.mode == cpu::ResizeMode::kNearest;
  if (!nearest && a.elem_size != sizeof(float)) HS_FAIL(kType, "resize: linear and cubic modes take float32");
  int64_t positions, taps;
  Tables t = layout(a, &positions, &taps);
  t.index = static_cast<int32_t*>(scratch);
  t.weight = reinterpret_cast<float*>(t.index + taps);
  fill_taps_kernel<<<grid_stride_blocks(positions), kGridStrideThreads, 0, stream>>>(a, t, positions);
  HS_CUDA_CHECK_LAUNCH("resize fill_taps_kernel");
  if (!nearest) {
    float extrapolation;
    static_assert(sizeof(float) == 4);
    const uint32_t bits = (uint32_t)a.extrapolation_bits;
    memcpy(&extrapolation, &bits, sizeof bits);
    interpolate_kernel<<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(a, t, extrapolation, n);
    HS_CUDA_CHECK_LAUNCH("resize interpolate_kernel");
    return Status::ok();
  }
  return by_element_size(a.elem_size, "resize", [&](auto tag) { return launch_nearest<decltype(tag)>(a, t, n, stream); });
}

}  // namespace hs::cuda
