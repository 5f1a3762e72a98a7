// Data movement: strided copies (Transpose, Slice, Expand: any permutation, step or broadcast is a
// choice of source strides), with a dtype conversion when asked, Gather along an axis, Pad, Trilu,
// a fill and Range's arithmetic progression.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "hs/dtype.h"
#include "hs/status.h"
#include "kernels/cpu/pad_index.h"
#include "kernels/cuda/layout.h"

namespace hs::cuda {

// out[i] = in[strided_offset(space, in_strides, i)] for every i of `space`; out is contiguous.
// `in` already points at the first element read. elem_size: 1, 2, 4 or 8 bytes.
Status strided_copy(size_t elem_size, const void* in, const Strides& in_strides, void* out, const IndexSpace& space,
                    cudaStream_t stream);

// strided_copy that also converts: float32 to float16 or bfloat16 (round to nearest even), or
// float16/bfloat16 to float32. For the reduced-precision kernels' operands (FlashAttention).
Status strided_convert(DType from, const void* in, const Strides& in_strides, DType to, void* out,
                       const IndexSpace& space, cudaStream_t stream);

// out[o, j, i] = data[o, idx(j), i] for data [outer, axis_dim, inner] and `count` indices (int32 or
// int64, negative counting from the end). An index outside [-axis_dim, axis_dim) writes zeros and
// sets *error_flag to 1 (checked by the caller after the stream synchronises).
Status gather(size_t elem_size, const void* data, const void* indices, bool indices_int64, void* out, int64_t outer,
              int64_t axis_dim, int64_t inner, int64_t count, int* error_flag, cudaStream_t stream);

// Pad (and crop) per cpu::AxisPad: out element at position o reads x at source_index(o_d) + first_d
// along every axis, or is the constant whose bytes are the low elem_size bytes of value_bits.
struct PadArgs {
  int rank = 0;
  int64_t in_dims[kMaxDims] = {};
  cpu::AxisPad axes[kMaxDims];
  cpu::PadMode mode = cpu::PadMode::kConstant;
  uint64_t value_bits = 0;
};
Status pad(size_t elem_size, const void* x, void* out, const PadArgs& args, cudaStream_t stream);

// Trilu over x viewed as [matrices, rows, cols]: out = x where column - row >= k (upper) or
// <= k (lower), else zero (a zero of every dtype is all zero bytes).
Status trilu(size_t elem_size, const void* x, void* out, int64_t matrices, int64_t rows, int64_t cols, int64_t k,
             bool upper, cudaStream_t stream);

// out[i] = the element whose bytes are the low elem_size bytes of `bits`, for i < n (ConstantOfShape).
Status fill(size_t elem_size, uint64_t bits, void* out, int64_t n, cudaStream_t stream);

// Range: out[i] = start + (T)i * delta for i < n, T float32, int32 or int64 (`dtype`); start and delta
// are given as the low bytes of their bits, like fill's value.
Status arange(DType dtype, uint64_t start_bits, uint64_t delta_bits, void* out, int64_t n, cudaStream_t stream);

}  // namespace hs::cuda
