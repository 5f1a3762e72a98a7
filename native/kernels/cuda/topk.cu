// TopK: one block per row and k rounds; round j finds, by a block-wide reduction, the best element
// ranked after round j-1's in the strict total order (value, then lower index), so no element is
// marked or moved and ties come out in index order. O(k * axis / 256) steps per row: meant for the
// small k of classification and detection heads (the launcher caps k at kTopKMaxK).
#include "kernels/cuda/topk.cuh"

#include <type_traits>

#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__device__ __forceinline__ bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  else return false;
}

// Whether (a, ia) ranks before (b, ib): the better value (NaN above every number), then the lower
// index. ia < 0 marks "no element", ranked after everything.
template <typename T>
__device__ __forceinline__ bool ranks_before(T a, int64_t ia, T b, int64_t ib, bool largest) {
  if (ia < 0) return false;
  if (ib < 0) return true;
  const bool na = is_nan(a), nb = is_nan(b);
  if (na != nb) return largest ? na : nb;
  if (!na && a != b) return largest ? a > b : a < b;
  return ia < ib;
}

template <typename T>
__device__ __forceinline__ void keep_better(T& v, int64_t& i, T ov, int64_t oi, bool largest) {
  if (ranks_before(ov, oi, v, i, largest)) v = ov, i = oi;
}

template <typename T>
__global__ void top_k_kernel(const T* __restrict__ x, T* __restrict__ values, int64_t* __restrict__ indices, int64_t axis,
                             int64_t inner, int64_t k, bool largest, int64_t rows) {
  __shared__ T warp_value[kThreads / 32];
  __shared__ int64_t warp_index[kThreads / 32];
  __shared__ T best_value;
  __shared__ int64_t best_index;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t o = r / inner, in = r % inner;
    const T* row = x + o * axis * inner + in;
    T prev_value = T(0);
    int64_t prev_index = -1;  // none yet: every element ranks after "before everything"
    for (int64_t j = 0; j < k; ++j) {
      T v = T(0);
      int64_t i = -1;
      for (int64_t a = threadIdx.x; a < axis; a += kThreads) {
        const T c = row[a * inner];
        if (prev_index >= 0 && !ranks_before(prev_value, prev_index, c, a, largest)) continue;
        keep_better(v, i, c, a, largest);
      }
      for (int offset = 16; offset > 0; offset /= 2)
        keep_better(v, i, __shfl_down_sync(0xffffffffu, v, offset), __shfl_down_sync(0xffffffffu, i, offset), largest);
      if (threadIdx.x % 32 == 0) warp_value[threadIdx.x / 32] = v, warp_index[threadIdx.x / 32] = i;
      __syncthreads();
      if (threadIdx.x == 0) {
        for (int w = 1; w < kThreads / 32; ++w) keep_better(v, i, warp_value[w], warp_index[w], largest);
        best_value = v, best_index = i;
        values[(o * k + j) * inner + in] = v;
        indices[(o * k + j) * inner + in] = i;
      }
      __syncthreads();
      prev_value = best_value, prev_index = best_index;
      __syncthreads();  // best_* are written again next round
    }
  }
}

template <typename T>
Status launch(const void* x, void* values, int64_t* indices, int64_t axis, int64_t inner, int64_t k, bool largest, int64_t rows,
              cudaStream_t stream) {
  const unsigned blocks = (unsigned)(rows < 65535 * 8 ? rows : 65535 * 8);
  top_k_kernel<T><<<blocks, kThreads, 0, stream>>>((const T*)x, (T*)values, indices, axis, inner, k, largest, rows);
  HS_CUDA_CHECK_LAUNCH("top_k_kernel");
  return Status::ok();
}

}  // namespace

Status top_k(DType dtype, const void* x, void* values, int64_t* indices, int64_t outer, int64_t axis, int64_t inner, int64_t k,
             bool largest, cudaStream_t stream) {
  if (k < 0 || k > axis || k > kTopKMaxK) HS_FAIL(kInvalidArgument, "top_k: k ", k, " is outside [0, min(", axis, ", ", kTopKMaxK, ")]");
  const int64_t rows = outer * inner;
  if (rows == 0 || k == 0) return Status::ok();
  if (!x || !values || !indices) HS_FAIL(kInvalidArgument, "top_k: null operand");
  switch (dtype) {
    case DType::kFloat32: return launch<float>(x, values, indices, axis, inner, k, largest, rows, stream);
    case DType::kInt32: return launch<int32_t>(x, values, indices, axis, inner, k, largest, rows, stream);
    case DType::kInt64: return launch<int64_t>(x, values, indices, axis, inner, k, largest, rows, stream);
    default: HS_FAIL(kType, "top_k: dtype ", dtype_name(dtype), " is not supported on CUDA");
  }
}

}  // namespace hs::cuda
