// The [outer, axis, inner] view of a tensor around one axis (or around a split point), which
// every "along one axis" kernel (ArgMax, CumSum, TopK, Softmax, norms) iterates over: element
// (o, a, i) sits at (o * axis_len + a) * inner + i.
#pragma once
#include <cstdint>

#include "kernels/cpu/common.h"

namespace hs::cpu {

struct AxisLayout {
  int64_t outer = 1;     // product of the dimensions before the axis
  int64_t axis_len = 1;  // the axis' own length
  int64_t inner = 1;     // product of the dimensions after the axis
};

// The layout around dimension `axis` (already normalised to [0, rank)).
inline AxisLayout layout_around(const Shape& shape, int64_t axis) {
  AxisLayout l;
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
    if (d < axis) l.outer *= shape[d];
    else if (d == axis) l.axis_len = shape[d];
    else l.inner *= shape[d];
  }
  return l;
}

// The 2-D layout [dims before split, dims from split on] as outer x axis_len (inner = 1).
inline AxisLayout layout_flattened_at(const Shape& shape, int64_t split) {
  AxisLayout l;
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) (d < split ? l.outer : l.axis_len) *= shape[d];
  return l;
}

// Axis in [-rank, rank) -> [0, rank), or ERR_INVALID_ARGUMENT naming the operator (a scalar
// has no axis).
inline Status normalize_axis_of(const std::string& op, int64_t axis, int64_t rank, int64_t* out) {
  if (axis < -rank || axis >= rank)
    return Status(StatusCode::kInvalidArgument, str_cat(op, ": axis ", axis, " is out of range for rank ", rank));
  *out = axis < 0 ? axis + rank : axis;
  return Status::ok();
}

// Items per parallel_for chunk so that each chunk does about `work_per_chunk` element operations.
inline int64_t grain_for(int64_t work_per_item, int64_t work_per_chunk = 32768) {
  return work_per_item >= work_per_chunk ? 1 : work_per_chunk / (work_per_item > 0 ? work_per_item : 1);
}

}  // namespace hs::cpu
