// Taking one slice of a tensor along an axis, and stacking equal-shaped slices back along a new
// axis: how Scan feeds its body one step at a time and how Loop and Scan assemble their scan
// outputs.
#pragma once
#include <cstring>
#include <vector>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/common.h"

namespace hs::cpu {

// t[..., index, ...] along `axis` (normalised), without that axis: a zero-copy view when the
// dimensions before the axis are all 1, else a copy.
inline Tensor slice_at(const Tensor& t, int64_t axis, int64_t index, ThreadPool& pool) {
  Shape shape = t.shape();
  shape.erase(shape.begin() + axis);
  const AxisLayout l = layout_around(t.shape(), axis);
  const size_t elem = dtype_size(t.dtype());
  if (l.outer == 1) return Tensor(t.dtype(), shape, t.buffer(), t.offset() + (size_t)(index * l.inner) * elem);
  Tensor out = Tensor::empty(t.dtype(), shape);
  const char* src = static_cast<const char*>(t.raw()) + (size_t)(index * l.inner) * elem;
  char* dst = static_cast<char*>(out.raw());
  const size_t row = (size_t)l.inner * elem, src_stride = (size_t)(l.axis_len * l.inner) * elem;
  pool.parallel_for(l.outer, grain_for((int64_t)row), [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) std::memcpy(dst + (size_t)o * row, src + (size_t)o * src_stride, row);
  });
  return out;
}

// Stacks `parts` (one dtype and shape) along a new axis `axis` of `out`, part i of n at position
// i (n - 1 - i when `reverse`); `out` is allocated by the caller with the stacked shape, whose
// axis may be longer than n (the positions past n are left as they are).
inline Status stack_slices(const std::vector<Tensor>& parts, int64_t axis, bool reverse, Tensor* out, ThreadPool& pool) {
  if (parts.empty()) return Status::ok();
  const Tensor& first = parts[0];
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].dtype() != first.dtype() || parts[i].shape() != first.shape())
      HS_FAIL(kShape, "scan output of step ", i, " has ", dtype_name(parts[i].dtype()), " shape ",
              shape_str(parts[i].shape()), ", step 0 had ", dtype_name(first.dtype()), " shape ", shape_str(first.shape()));
  const AxisLayout l = layout_around(out->shape(), axis);
  const size_t elem = dtype_size(first.dtype()), row = (size_t)l.inner * elem;
  const int64_t n = (int64_t)parts.size();
  if (n > l.axis_len) HS_FAIL(kInternal, "stacking ", n, " slices into an axis of ", l.axis_len);
  char* dst = static_cast<char*>(out->raw());
  pool.parallel_for(n * l.outer, grain_for((int64_t)row), [&](int64_t begin, int64_t end) {
    for (int64_t job = begin; job < end; ++job) {
      const int64_t i = job / l.outer, o = job % l.outer;
      const int64_t at = reverse ? n - 1 - i : i;
      std::memcpy(dst + (size_t)(o * l.axis_len + at) * row, static_cast<const char*>(parts[(size_t)i].raw()) + (size_t)o * row, row);
    }
  });
  return Status::ok();
}

}  // namespace hs::cpu
