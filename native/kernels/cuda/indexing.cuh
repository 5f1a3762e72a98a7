// Index-driven data movement: GatherElements / ScatterElements (an index per element along one
// axis), GatherND / ScatterND (an index tuple per slice, after batch dimensions), OneHot and
// CumSum. Indices are int32 or int64 and may count from the end; one outside its axis writes a
// zero (gathers) or nothing (scatters) and sets *error_flag to 1, which the caller turns into a
// failed run after the stream synchronises.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "hs/dtype.h"
#include "hs/status.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

// The index tensor of a gather or scatter: its elements and their type.
struct IndexTensor {
  const void* data = nullptr;
  bool int64 = true;
};

// An element-wise gather or scatter along `axis`: `space` is the indices' shape, `data_strides` the
// data's contiguous strides with the axis' own stride zeroed (so an index position's offset without
// the axis), `axis_stride` and `axis_dim` the axis' stride and length in the data.
struct AxisIndexing {
  IndexSpace space;
  Strides data_strides;
  int64_t axis_stride = 0;
  int64_t axis_dim = 0;
};

// out[p] = data[p with p[axis] = indices[p]] over the indices' positions p (out has their shape).
Status gather_elements(size_t elem_size, const void* data, IndexTensor indices, void* out, const AxisIndexing& ix,
                       int* error_flag, cudaStream_t stream);

// How a scatter combines an update with the element it lands on.
enum class ScatterReduction : int { kNone, kAdd };

// out (already holding data) [p with p[axis] = indices[p]] = / += updates[p]. kAdd takes float32,
// int32 and int64 (atomically, so repeated indices add up); kNone any element size, and where
// indices repeat, one of their updates lands (ONNX leaves which open).
Status scatter_elements(DType dtype, const void* updates, IndexTensor indices, void* out, const AxisIndexing& ix,
                        ScatterReduction reduction, int* error_flag, cudaStream_t stream);

// GatherND / ScatterND over data viewed as [batch, data dims...]: each of `rows` index tuples of
// `depth` elements (rows_per_batch of them per batch entry) picks a slice of `slice` contiguous
// elements at sum_j index_j * dim_strides[j] within its batch entry (batch_stride elements apart).
struct NdIndexing {
  int64_t rows = 0;
  int64_t rows_per_batch = 1;
  int64_t batch_stride = 0;
  int depth = 0;
  int64_t dims[kMaxDims] = {};         // the indexed dimensions' lengths
  int64_t dim_strides[kMaxDims] = {};  // and strides, in elements
  int64_t slice = 1;
};

// out[r, s] = data[slice r][s].
Status gather_nd(size_t elem_size, const void* data, IndexTensor indices, void* out, const NdIndexing& ix, int* error_flag,
                 cudaStream_t stream);
// out (already holding data) [slice r][s] = / += updates[r, s].
Status scatter_nd(DType dtype, const void* updates, IndexTensor indices, void* out, const NdIndexing& ix,
                  ScatterReduction reduction, int* error_flag, cudaStream_t stream);

// OneHot: out [outer, depth, inner] = on where the index at [outer, inner] (negative: + depth)
// equals the depth position, else off; the values are elem_size-byte patterns (low bytes of
// on_bits / off_bits). An index outside [-depth, depth) gives a row of off values, as ONNX says.
Status one_hot(size_t elem_size, IndexTensor indices, void* out, int64_t outer, int64_t depth, int64_t inner,
               uint64_t on_bits, uint64_t off_bits, cudaStream_t stream);

// CumSum along the middle axis of [outer, axis, inner]; exclusive starts from zero, reverse runs
// from the end. float32, int32 or int64.
Status cumsum(DType dtype, const void* x, void* y, int64_t outer, int64_t axis, int64_t inner, bool exclusive, bool reverse,
              cudaStream_t stream);

}  // namespace hs::cuda
