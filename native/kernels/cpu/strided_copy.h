// Copy of a strided view into a contiguous tensor: the engine of Transpose, Slice, Expand, Tile,
// DepthToSpace/SpaceToDepth and Scan's slicing, which all read their input through strides.
//
// Algorithm: the view is first simplified (size-1 dimensions dropped, dimensions that are
// contiguous with their neighbour merged), then one of four loops runs, parallel over the outer
// index space: rows whose last stride is 1 are memcpy'd; rows whose last stride is 0 (broadcast)
// are filled; when another dimension has stride 1 (a transpose), tiles of that dimension and the
// last one (a cache line by 64 elements) are transposed in SIMD registers (transpose_tile.h),
// reads and writes staying in cache; anything else is gathered
// element by element through the last stride.
#pragma once
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "hs/kernel.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_loop.h"
#include "kernels/cpu/transpose_tile.h"

namespace hs::cpu {

// Element (i0, ..., ik) of the view sits at offset + sum(i_d * strides[d]) elements of the source.
struct StridedView {
  Shape dims;
  std::vector<int64_t> strides;
  int64_t offset = 0;
};

// The view of a whole contiguous tensor of this shape.
inline StridedView contiguous_view(const Shape& shape) { return StridedView{shape, strides_of(shape), 0}; }

// Drops size-1 dimensions and merges dimensions that are contiguous with the next one; the view
// reads the same elements in the same order. A view with a zero dimension keeps it.
inline StridedView simplify_view(const StridedView& view) {
  StridedView out;
  out.offset = view.offset;
  for (size_t d = 0; d < view.dims.size(); ++d) {
    if (view.dims[d] == 0) return StridedView{{0}, {1}, view.offset};
    if (view.dims[d] == 1) continue;
    if (!out.dims.empty() && out.strides.back() == view.strides[d] * view.dims[d]) {
      out.dims.back() *= view.dims[d];
      out.strides.back() = view.strides[d];
    } else {
      out.dims.push_back(view.dims[d]);
      out.strides.push_back(view.strides[d]);
    }
  }
  return out;
}

// True when the simplified view reads one contiguous run of elements.
inline bool is_contiguous(const StridedView& simple) {
  return simple.dims.empty() || (simple.dims.size() == 1 && simple.strides[0] == 1);
}

namespace strided_detail {

// A tile spans one cache line of the source-contiguous dimension and 64 elements of the
// destination-contiguous one, so every line it touches is used whole.
template <typename T> constexpr int64_t kTileRows = 64 / (int64_t)sizeof(T);
constexpr int64_t kTileCols = 64;

// Rows of the last dimension, parallel over the outer index space; row(src_offset, dst) copies one.
template <typename T, typename RowFn>
void for_each_row(const StridedView& v, T* dst, ThreadPool& pool, RowFn&& row) {
  const int64_t inner = v.dims.back();
  const std::vector<int64_t> outer_dims(v.dims.begin(), v.dims.end() - 1);
  const std::vector<int64_t> outer_strides(v.strides.begin(), v.strides.end() - 1);
  pool.parallel_for(shape_numel(outer_dims), grain_for(inner), [&](int64_t begin, int64_t end) {
    for_each_strided<1>(outer_dims, {outer_strides.data()}, {v.offset}, begin, end,
                        [&](int64_t linear, const std::array<int64_t, 1>& off) { row(off[0], dst + linear * inner); });
  });
}

// Tiles of (dimension k, which has source stride 1) x (the last dimension), the rest outer.
template <typename T>
void copy_transposed(const T* src, const StridedView& v, size_t k, T* dst, ThreadPool& pool) {
  const size_t rank = v.dims.size();
  const std::vector<int64_t> dst_strides = strides_of(v.dims);
  std::vector<int64_t> outer_dims, outer_src, outer_dst;
  for (size_t d = 0; d + 1 < rank; ++d) {
    if (d == k) continue;
    outer_dims.push_back(v.dims[d]);
    outer_src.push_back(v.strides[d]);
    outer_dst.push_back(dst_strides[d]);
  }
  const int64_t rows = v.dims[k], cols = v.dims[rank - 1];
  const int64_t src_col_stride = v.strides[rank - 1], dst_row_stride = dst_strides[k];
  const int64_t row_tiles = (rows + kTileRows<T> - 1) / kTileRows<T>, col_tiles = (cols + kTileCols - 1) / kTileCols;
  const int64_t tiles = shape_numel(outer_dims) * row_tiles * col_tiles;
  pool.parallel_for(tiles, grain_for(kTileRows<T> * kTileCols), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t outer = t / (row_tiles * col_tiles);
      const int64_t r0 = (t / col_tiles % row_tiles) * kTileRows<T>, c0 = (t % col_tiles) * kTileCols;
      const T* s = src + v.offset + strided_offset(outer, outer_dims, outer_src) + r0 + c0 * src_col_stride;
      T* o = dst + strided_offset(outer, outer_dims, outer_dst) + r0 * dst_row_stride + c0;
      transpose_tile(s, src_col_stride, o, dst_row_stride, std::min(kTileRows<T>, rows - r0), std::min(kTileCols, cols - c0));
    }
  });
}

}  // namespace strided_detail

// Copies the elements of `view` over `src`, in row-major order of view.dims, into `dst`.
template <typename T>
void copy_strided(const T* src, const StridedView& view, T* dst, ThreadPool& pool) {
  const StridedView v = simplify_view(view);
  if (v.dims.empty()) {
    dst[0] = src[v.offset];
    return;
  }
  if (v.dims[0] == 0) return;
  const int64_t inner = v.dims.back(), last_stride = v.strides.back();
  if (last_stride == 1) {
    strided_detail::for_each_row(v, dst, pool, [&](int64_t off, T* out) { std::memcpy(out, src + off, inner * sizeof(T)); });
    return;
  }
  if (last_stride == 0) {
    strided_detail::for_each_row(v, dst, pool, [&](int64_t off, T* out) { std::fill(out, out + inner, src[off]); });
    return;
  }
  for (size_t k = 0; k + 1 < v.dims.size(); ++k) {
    if (v.strides[k] == 1) {
      strided_detail::copy_transposed(src, v, k, dst, pool);
      return;
    }
  }
  strided_detail::for_each_row(v, dst, pool, [&](int64_t off, T* out) {
    const T* in = src + off;
    for (int64_t i = 0; i < inner; ++i) out[i] = in[i * last_stride];
  });
}

// Sets output `index` to the elements of `view` over `input`, shaped `out_shape`: a zero-copy
// view of the input's buffer when they are contiguous, else a new contiguous tensor.
inline Status output_strided(KernelContext& ctx, int index, const Tensor& input, const StridedView& view,
                             const Shape& out_shape, const char* op) {
  const StridedView simple = simplify_view(view);
  if (is_contiguous(simple) && shape_numel(out_shape) > 0) {
    const size_t offset = input.offset() + (size_t)simple.offset * dtype_size(input.dtype());
    ctx.set_output(index, Tensor(input.dtype(), out_shape, input.buffer(), offset));
    return Status::ok();
  }
  return dispatch_by_size(input.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor* out = ctx.output(index, input.dtype(), out_shape);
    copy_strided(input.data<T>(), view, out->data<T>(), ctx.pool());
    return Status::ok();
  });
}

}  // namespace hs::cpu
