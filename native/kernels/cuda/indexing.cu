// Index-driven data movement (indexing.cuh). Grid-stride loops over the indices' positions (the
// element-wise ops) or over every element of every slice (the ND ops); elements move as unsigned
// integers of their width, except where a scatter adds.
#include "kernels/cuda/indexing.cuh"

#include <type_traits>

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/element_size.cuh"
#include "kernels/cuda/grid_stride.cuh"

namespace hs::cuda {
namespace {

__device__ __forceinline__ int64_t read_index(IndexTensor t, int64_t i) {
  return t.int64 ? ((const int64_t*)t.data)[i] : (int64_t)((const int32_t*)t.data)[i];
}

// The index wrapped into [0, dim), or -1 (and the flag set) when it is outside [-dim, dim).
__device__ __forceinline__ int64_t checked_index(int64_t idx, int64_t dim, int* error_flag) {
  if (idx < 0) idx += dim;
  if (idx < 0 || idx >= dim) {
    *error_flag = 1;
    return -1;
  }
  return idx;
}

// The data offset an element-wise gather or scatter reads or writes for index position i; -1 when
// its index is out of range.
__device__ __forceinline__ int64_t axis_offset(const AxisIndexing& ix, IndexTensor indices, int64_t i, int* error_flag) {
  const int64_t idx = checked_index(read_index(indices, i), ix.axis_dim, error_flag);
  return idx < 0 ? -1 : strided_offset(ix.space, ix.data_strides, i) + idx * ix.axis_stride;
}

// The offset of slice r within the data; -1 when one of its indices is out of range.
__device__ __forceinline__ int64_t slice_offset(const NdIndexing& ix, IndexTensor indices, int64_t r, int* error_flag) {
  int64_t offset = (r / ix.rows_per_batch) * ix.batch_stride;
  for (int j = 0; j < ix.depth; ++j) {
    const int64_t idx = checked_index(read_index(indices, r * ix.depth + j), ix.dims[j], error_flag);
    if (idx < 0) return -1;
    offset += idx * ix.dim_strides[j];
  }
  return offset;
}

int64_t space_numel(const IndexSpace& space) {
  int64_t n = 1;
  for (int d = 0; d < space.rank; ++d) n *= space.dims[d];
  return n;
}

template <typename T>
__global__ void gather_elements_kernel(const T* __restrict__ data, IndexTensor indices, T* __restrict__ out, AxisIndexing ix,
                                       int64_t n, int* error_flag) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t at = axis_offset(ix, indices, i, error_flag);
    out[i] = at < 0 ? T(0) : data[at];
  }
}

// Adding scatters run with T = float, int32_t or int64_t (by_add_type), the others with the
// unsigned element types.
template <typename T>
__device__ __forceinline__ void store(T* out, T v, ScatterReduction reduction) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, int32_t>) {
    if (reduction == ScatterReduction::kAdd) return (void)atomicAdd(out, v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    // two's complement adds alike
    if (reduction == ScatterReduction::kAdd) return (void)atomicAdd((unsigned long long*)out, (unsigned long long)v);
  }
  *out = v;
}

template <typename T>
__global__ void scatter_elements_kernel(const T* __restrict__ updates, IndexTensor indices, T* out, AxisIndexing ix,
                                        ScatterReduction reduction, int64_t n, int* error_flag) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t at = axis_offset(ix, indices, i, error_flag);
    if (at >= 0) store(out + at, updates[i], reduction);
  }
}

template <typename T>
__global__ void gather_nd_kernel(const T* __restrict__ data, IndexTensor indices, T* __restrict__ out, NdIndexing ix,
                                 int64_t n, int* error_flag) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t at = slice_offset(ix, indices, i / ix.slice, error_flag);
    out[i] = at < 0 ? T(0) : data[at + i % ix.slice];
  }
}

template <typename T>
__global__ void scatter_nd_kernel(const T* __restrict__ updates, IndexTensor indices, T* out, NdIndexing ix,
                                  ScatterReduction reduction, int64_t n, int* error_flag) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t at = slice_offset(ix, indices, i / ix.slice, error_flag);
    if (at >= 0) store(out + at + i % ix.slice, updates[i], reduction);
  }
}

template <typename T>
__global__ void one_hot_kernel(IndexTensor indices, T* __restrict__ out, int64_t depth, int64_t inner, T on, T off, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t in = i % inner, d = (i / inner) % depth, o = i / (inner * depth);
    int64_t idx = read_index(indices, o * inner + in);
    if (idx < 0) idx += depth;
    out[i] = idx == d ? on : off;
  }
}

// One thread per [outer, inner] row, walking its axis.
template <typename T>
__global__ void cumsum_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t axis, int64_t inner, bool exclusive,
                              bool reverse, int64_t rows) {
  for (int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r < rows; r += (int64_t)gridDim.x * blockDim.x) {
    const int64_t base = (r / inner) * axis * inner + r % inner;
    T sum = T(0);
    for (int64_t k = 0; k < axis; ++k) {
      const int64_t at = base + (reverse ? axis - 1 - k : k) * inner;
      const T v = x[at];
      if (!exclusive) sum += v;
      y[at] = sum;
      if (exclusive) sum += v;
    }
  }
}

// The element type a scatter adds in, by dtype; kNone moves any element size as bits.
template <typename F>
Status by_add_type(DType dtype, const char* what, F&& f) {
  switch (dtype) {
    case DType::kFloat32: return f(float{});
    case DType::kInt32: return f(int32_t{});
    case DType::kInt64: return f(int64_t{});
    default: return Status(StatusCode::kType, str_cat(what, ": float32, int32 or int64 only, not ", dtype_name(dtype)));
  }
}

template <typename F>
Status by_scatter_type(DType dtype, ScatterReduction reduction, const char* what, F&& f) {
  if (reduction == ScatterReduction::kAdd) return by_add_type(dtype, what, f);
  return by_element_size(dtype_size(dtype), what, f);
}

}  // namespace

Status gather_elements(size_t elem_size, const void* data, IndexTensor indices, void* out, const AxisIndexing& ix,
                       int* error_flag, cudaStream_t stream) {
  const int64_t n = space_numel(ix.space);
  if (n == 0) return Status::ok();
  if (!data || !indices.data || !out || !error_flag) HS_FAIL(kInvalidArgument, "gather_elements: null operand");
  return by_element_size(elem_size, "gather_elements", [&](auto tag) {
    using T = decltype(tag);
    gather_elements_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)data, indices, (T*)out, ix, n, error_flag);
    HS_CUDA_CHECK_LAUNCH("gather_elements_kernel");
    return Status::ok();
  });
}

Status scatter_elements(DType dtype, const void* updates, IndexTensor indices, void* out, const AxisIndexing& ix,
                        ScatterReduction reduction, int* error_flag, cudaStream_t stream) {
  const int64_t n = space_numel(ix.space);
  if (n == 0) return Status::ok();
  if (!updates || !indices.data || !out || !error_flag) HS_FAIL(kInvalidArgument, "scatter_elements: null operand");
  return by_scatter_type(dtype, reduction, "scatter_elements", [&](auto tag) {
    using T = decltype(tag);
    scatter_elements_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)updates, indices, (T*)out, ix,
                                                                                       reduction, n, error_flag);
    HS_CUDA_CHECK_LAUNCH("scatter_elements_kernel");
    return Status::ok();
  });
}

Status gather_nd(size_t elem_size, const void* data, IndexTensor indices, void* out, const NdIndexing& ix, int* error_flag,
                 cudaStream_t stream) {
  const int64_t n = ix.rows * ix.slice;
  if (n == 0) return Status::ok();
  if (ix.depth < 0 || ix.depth > kMaxDims || ix.rows_per_batch < 1) HS_FAIL(kInvalidArgument, "gather_nd: bad indexing");
  if (!data || !out || !error_flag || (ix.depth > 0 && !indices.data)) HS_FAIL(kInvalidArgument, "gather_nd: null operand");
  return by_element_size(elem_size, "gather_nd", [&](auto tag) {
    using T = decltype(tag);
    gather_nd_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)data, indices, (T*)out, ix, n, error_flag);
    HS_CUDA_CHECK_LAUNCH("gather_nd_kernel");
    return Status::ok();
  });
}

Status scatter_nd(DType dtype, const void* updates, IndexTensor indices, void* out, const NdIndexing& ix,
                  ScatterReduction reduction, int* error_flag, cudaStream_t stream) {
  const int64_t n = ix.rows * ix.slice;
  if (n == 0) return Status::ok();
  if (ix.depth < 0 || ix.depth > kMaxDims || ix.rows_per_batch < 1) HS_FAIL(kInvalidArgument, "scatter_nd: bad indexing");
  if (!updates || !out || !error_flag || (ix.depth > 0 && !indices.data)) HS_FAIL(kInvalidArgument, "scatter_nd: null operand");
  return by_scatter_type(dtype, reduction, "scatter_nd", [&](auto tag) {
    using T = decltype(tag);
    scatter_nd_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>((const T*)updates, indices, (T*)out, ix, reduction,
                                                                                 n, error_flag);
    HS_CUDA_CHECK_LAUNCH("scatter_nd_kernel");
    return Status::ok();
  });
}

Status one_hot(size_t elem_size, IndexTensor indices, void* out, int64_t outer, int64_t depth, int64_t inner,
               uint64_t on_bits, uint64_t off_bits, cudaStream_t stream) {
  const int64_t n = outer * depth * inner;
  if (n == 0) return Status::ok();
  if (!indices.data || !out) HS_FAIL(kInvalidArgument, "one_hot: null operand");
  return by_element_size(elem_size, "one_hot", [&](auto tag) {
    using T = decltype(tag);
    one_hot_kernel<T><<<grid_stride_blocks(n), kGridStrideThreads, 0, stream>>>(indices, (T*)out, depth, inner, (T)on_bits,
                                                                              (T)off_bits, n);
    HS_CUDA_CHECK_LAUNCH("one_hot_kernel");
    return Status::ok();
  });
}

Status cumsum(DType dtype, const void* x, void* y, int64_t outer, int64_t axis, int64_t inner, bool exclusive, bool reverse,
              cudaStream_t stream) {
  const int64_t rows = outer * inner;
  if (rows == 0 || axis == 0) return Status::ok();
  if (!x || !y) HS_FAIL(kInvalidArgument, "cumsum: null operand");
  return by_add_type(dtype, "cumsum", [&](auto tag) {
    using T = decltype(tag);
    cumsum_kernel<T><<<grid_stride_blocks(rows), kGridStrideThreads, 0, stream>>>((const T*)x, (T*)y, axis, inner, exclusive,
                                                                                reverse, rows);
    HS_CUDA_CHECK_LAUNCH("cumsum_kernel");
    return Status::ok();
  });
}

}  // namespace hs::cuda
