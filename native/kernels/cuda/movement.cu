// Strided copy, converting copy and gather: grid-stride loops over the output with the element size
// (or the two element types) as template parameters; plain copies move each element as one integer
// of its width.
#include "kernels/cuda/movement.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/element_size.cuh"
#include "kernels/cuda/grid_stride.cuh"

namespace hs::cuda {
namespace {

template <typename T>
__global__ void strided_copy_kernel(const T* __restrict__ in, Strides strides, T* __restrict__ out, IndexSpace space,
                                    int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = in[strided_offset(space, strides, i)];
}

__device__ __forceinline__ float load_float(const float* p) { return *p; }
__device__ __forceinline__ float load_float(const __half* p) { return __half2float(*p); }
__device__ __forceinline__ float load_float(const __nv_bfloat16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void store_float(float* p, float v) { *p = v; }
__device__ __forceinline__ void store_float(__half* p, float v) { *p = __float2half_rn(v); }
__device__ __forceinline__ void store_float(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }

template <typename From, typename To>
__global__ void strided_convert_kernel(const From* __restrict__ in, Strides strides, To* __restrict__ out,
                                       IndexSpace space, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    store_float(out + i, load_float(in + strided_offset(space, strides, i)));
}

template <typename From, typename To>
Status launch_convert(const void* in, const Strides& strides, void* out, const IndexSpace& space, int64_t n,
                      cudaStream_t stream) {
  strided_convert_kernel<From, To><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const From*)in, strides, (To*)out, space, n);
  HS_CUDA_CHECK_LAUNCH("strided_convert_kernel");
  return Status::ok();
}

template <typename T, typename I>
__global__ void gather_kernel(const T* __restrict__ data, const I* __restrict__ indices, T* __restrict__ out,
                              int64_t axis_dim, int64_t inner, int64_t count, int64_t n, int* error_flag) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t in = i % inner, j = (i / inner) % count, o = i / (inner * count);
    int64_t idx = (int64_t)indices[j];
    if (idx < 0) idx += axis_dim;
    if (idx < 0 || idx >= axis_dim) {
      *error_flag = 1;
      out[i] = T(0);
      continue;
    }
    out[i] = data[(o * axis_dim + idx) * inner + in];
  }
}

template <typename T>
__global__ void fill_kernel(T value, T* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = value;
}

template <typename T>
Status launch_fill(uint64_t bits, void* out, int64_t n, cudaStream_t stream) {
  fill_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((T)bits, (T*)out, n);
  HS_CUDA_CHECK_LAUNCH("fill_kernel");
  return Status::ok();
}

template <typename T>
__global__ void arange_kernel(T start, T delta, T* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = (T)(start + (T)i * delta);  // the CPU kernel's expression
}

template <typename T>
Status launch_arange(uint64_t start_bits, uint64_t delta_bits, void* out, int64_t n, cudaStream_t stream) {
  T start, delta;
  std::memcpy(&start, &start_bits, sizeof(T));
  std::memcpy(&delta, &delta_bits, sizeof(T));
  arange_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(start, delta, (T*)out, n);
  HS_CUDA_CHECK_LAUNCH("arange_kernel");
  return Status::ok();
}

template <typename T>
__global__ void pad_kernel(const T* __restrict__ x, T* __restrict__ out, PadArgs a, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t rest = i, offset = 0, stride = 1;
    bool constant = false;
    for (int d = a.rank - 1; d >= 0; --d) {
      const cpu::AxisPad& p = a.axes[d];
      const int64_t len = p.out_len();
      const int64_t m = cpu::source_index(rest % len, p.before, p.kept, a.mode);
      rest /= len;
      constant = constant || m < 0;
      offset += (m + p.first) * stride;
      stride *= a.in_dims[d];
    }
    out[i] = constant ? (T)a.value_bits : x[offset];
  }
}

template <typename T>
__global__ void trilu_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t rows, int64_t cols, int64_t k,
                             bool upper, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t col = i % cols, row = (i / cols) % rows;
    out[i] = (upper ? col - row >= k : col - row <= k) ? x[i] : T(0);
  }
}

template <typename T>
Status launch_pad(const void* x, void* out, const PadArgs& a, int64_t n, cudaStream_t stream) {
  pad_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)x, (T*)out, a, n);
  HS_CUDA_CHECK_LAUNCH("pad_kernel");
  return Status::ok();
}

template <typename T>
Status launch_trilu(const void* x, void* out, int64_t rows, int64_t cols, int64_t k, bool upper, int64_t n,
                    cudaStream_t stream) {
  trilu_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)x, (T*)out, rows, cols, k, upper, n);
  HS_CUDA_CHECK_LAUNCH("trilu_kernel");
  return Status::ok();
}

template <typename T>
Status launch_copy(const void* in, const Strides& strides, void* out, const IndexSpace& space, int64_t n,
                   cudaStream_t stream) {
  strided_copy_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)in, strides, (T*)out, space, n);
  HS_CUDA_CHECK_LAUNCH("strided_copy_kernel");
  return Status::ok();
}

template <typename T>
Status launch_gather(const void* data, const void* indices, bool i64, void* out, int64_t axis_dim, int64_t inner,
                     int64_t count, int64_t n, int* flag, cudaStream_t stream) {
  if (i64)
    gather_kernel<T, int64_t><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)data, (const int64_t*)indices, (T*)out,
                                                                    axis_dim, inner, count, n, flag);
  else
    gather_kernel<T, int32_t><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)data, (const int32_t*)indices, (T*)out,
                                                                    axis_dim, inner, count, n, flag);
  HS_CUDA_CHECK_LAUNCH("gather_kernel");
  return Status::ok();
}

}  // namespace

Status strided_copy(size_t elem_size, const void* in, const Strides& in_strides, void* out, const IndexSpace& space,
                    cudaStream_t stream) {
  if (space.rank < 0 || space.rank > kMaxDims) HS_FAIL(kShape, "strided_copy: rank out of range");
  int64_t n = 1;
  for (int d = 0; d < space.rank; ++d) n *= space.dims[d];
  if (n == 0) return Status::ok();
  if (!in || !out) HS_FAIL(kInvalidArgument, "strided_copy: null operand");
  return by_element_size(elem_size, "strided_copy",
                         [&](auto tag) { return launch_copy<decltype(tag)>(in, in_strides, out, space, n, stream); });
}

Status strided_convert(DType from, const void* in, const Strides& in_strides, DType to, void* out,
                       const IndexSpace& space, cudaStream_t stream) {
  if (space.rank < 0 || space.rank > kMaxDims) HS_FAIL(kShape, "strided_convert: rank out of range");
  int64_t n = 1;
  for (int d = 0; d < space.rank; ++d) n *= space.dims[d];
  if (n == 0) return Status::ok();
  if (!in || !out) HS_FAIL(kInvalidArgument, "strided_convert: null operand");
  if (from == DType::kFloat32 && to == DType::kFloat16) return launch_convert<float, __half>(in, in_strides, out, space, n, stream);
  if (from == DType::kFloat32 && to == DType::kBFloat16)
    return launch_convert<float, __nv_bfloat16>(in, in_strides, out, space, n, stream);
  if (from == DType::kFloat16 && to == DType::kFloat32) return launch_convert<__half, float>(in, in_strides, out, space, n, stream);
  if (from == DType::kBFloat16 && to == DType::kFloat32)
    return launch_convert<__nv_bfloat16, float>(in, in_strides, out, space, n, stream);
  HS_FAIL(kType, "strided_convert: ", dtype_name(from), " to ", dtype_name(to), " is not supported");
}

Status gather(size_t elem_size, const void* data, const void* indices, bool indices_int64, void* out, int64_t outer,
              int64_t axis_dim, int64_t inner, int64_t count, int* error_flag, cudaStream_t stream) {
  const int64_t n = outer * count * inner;
  if (n == 0) return Status::ok();
  if (!data || !indices || !out || !error_flag) HS_FAIL(kInvalidArgument, "gather: null operand");
  return by_element_size(elem_size, "gather", [&](auto tag) {
    return launch_gather<decltype(tag)>(data, indices, indices_int64, out, axis_dim, inner, count, n, error_flag, stream);
  });
}

Status pad(size_t elem_size, const void* x, void* out, const PadArgs& a, cudaStream_t stream) {
  if (a.rank < 1 || a.rank > kMaxDims) HS_FAIL(kShape, "pad: rank ", a.rank, " is out of range");
  int64_t n = 1;
  for (int d = 0; d < a.rank; ++d) n *= a.axes[d].out_len();
  if (n == 0) return Status::ok();
  if (!x || !out) HS_FAIL(kInvalidArgument, "pad: null operand");
  return by_element_size(elem_size, "pad", [&](auto tag) { return launch_pad<decltype(tag)>(x, out, a, n, stream); });
}

Status trilu(size_t elem_size, const void* x, void* out, int64_t matrices, int64_t rows, int64_t cols, int64_t k,
             bool upper, cudaStream_t stream) {
  const int64_t n = matrices * rows * cols;
  if (n == 0) return Status::ok();
  if (!x || !out) HS_FAIL(kInvalidArgument, "trilu: null operand");
  return by_element_size(elem_size, "trilu",
                         [&](auto tag) { return launch_trilu<decltype(tag)>(x, out, rows, cols, k, upper, n, stream); });
}

Status fill(size_t elem_size, uint64_t bits, void* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  if (!out) HS_FAIL(kInvalidArgument, "fill: null operand");
  return by_element_size(elem_size, "fill", [&](auto tag) { return launch_fill<decltype(tag)>(bits, out, n, stream); });
}

Status arange(DType dtype, uint64_t start_bits, uint64_t delta_bits, void* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return Status::ok();
  if (!out) HS_FAIL(kInvalidArgument, "arange: null operand");
  switch (dtype) {
    case DType::kFloat32: return launch_arange<float>(start_bits, delta_bits, out, n, stream);
    case DType::kInt32: return launch_arange<int32_t>(start_bits, delta_bits, out, n, stream);
    case DType::kInt64: return launch_arange<int64_t>(start_bits, delta_bits, out, n, stream);
    default: HS_FAIL(kType, "arange: dtype ", dtype_name(dtype), " is not supported on CUDA");
  }
}

}  // namespace hs::cuda
