// Gather, GatherElements and GatherND: reads of the data tensor at positions given by an int32/
// int64 indices tensor (negative indices count from the end; out-of-range ones are an error).
//
// Algorithm: indices are read once into int64 and checked against their axis, then the copy
// runs parallel over output rows with a contiguous (memcpy) inner run wherever the gathered unit
// is a slice: Gather copies [inner] rows of data viewed as [outer, axis, inner]; GatherND copies
// the data slice that each index tuple selects; GatherElements reads element by element, the
// row offset advanced by an odometer (strided_loop.h).
#include <cstring>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_loop.h"

namespace hs::cpu {
namespace {

// The indices as int64 in [0, dim) (negative ones wrapped), or ERR_INVALID_ARGUMENT naming the
// first out-of-range one.
Status read_indices(const Tensor& indices, int64_t dim, const char* op, std::vector<int64_t>* out) {
  HS_RETURN_IF_ERROR(require_index_dtype(indices, op, "indices"));
  *out = indices.to_int64_vector();
  for (int64_t& i : *out) {
    if (i < -dim || i >= dim) HS_FAIL(kInvalidArgument, op, ": index ", i, " is out of range for a dimension of ", dim);
    if (i < 0) i += dim;
  }
  return Status::ok();
}

// Copies `count` elements of T (one element is common enough to skip memcpy's call).
template <typename T>
inline void copy_run(T* dst, const T* src, int64_t count) {
  if (count == 1) *dst = *src;
  else std::memcpy(dst, src, (size_t)count * sizeof(T));
}

class GatherKernel final : public KernelBase {
 public:
  explicit GatherKernel(const KernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *indices;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Gather", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Gather", &indices));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("Gather", axis_, data->rank(), &axis));
    const AxisLayout l = layout_around(data->shape(), axis);
    std::vector<int64_t> idx;
    HS_RETURN_IF_ERROR(read_indices(*indices, l.axis_len, "Gather", &idx));
    Shape out_shape(data->shape().begin(), data->shape().begin() + axis);
    out_shape.insert(out_shape.end(), indices->shape().begin(), indices->shape().end());
    out_shape.insert(out_shape.end(), data->shape().begin() + axis + 1, data->shape().end());
    return dispatch_by_size(data->dtype(), "Gather", [&](auto tag) {
      using T = decltype(tag);
      Tensor* out = ctx.output(0, data->dtype(), out_shape);
      const T* src = data->data<T>();
      T* dst = out->data<T>();
      const int64_t n = (int64_t)idx.size(), inner = l.inner;
      ctx.pool().parallel_for(l.outer * n, grain_for(inner), [&](int64_t begin, int64_t end) {
        for (int64_t job = begin; job < end; ++job) {
          const int64_t o = job / n, j = job % n;
          copy_run(dst + job * inner, src + (o * l.axis_len + idx[(size_t)j]) * inner, inner);
        }
      });
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
};

// out[p] = data[p with p[axis] replaced by indices[p]]; indices has data's rank and no larger
// dimensions off the axis.
class GatherElementsKernel final : public KernelBase {
 public:
  explicit GatherElementsKernel(const KernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *indices;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "GatherElements", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "GatherElements", &indices));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("GatherElements", axis_, data->rank(), &axis));
    bool fits = indices->rank() == data->rank();
    for (int64_t d = 0; fits && d < data->rank(); ++d) fits = d == axis || indices->dim(d) <= data->dim(d);
    if (!fits)
      HS_FAIL(kShape, "GatherElements: indices of shape ", shape_str(indices->shape()), " do not fit data of shape ",
              shape_str(data->shape()), " along axis ", axis);
    std::vector<int64_t> idx;
    HS_RETURN_IF_ERROR(read_indices(*indices, data->dim(axis), "GatherElements", &idx));
    return dispatch_by_size(data->dtype(), "GatherElements", [&](auto tag) {
      using T = decltype(tag);
      Tensor* out = ctx.output(0, data->dtype(), indices->shape());
      if (out->numel() == 0) return Status::ok();
      const T* src = data->data<T>();
      T* dst = out->data<T>();
      std::vector<int64_t> data_strides = strides_of(data->shape());
      const int64_t axis_stride = data_strides[(size_t)axis];
      data_strides[(size_t)axis] = 0;  // the index supplies the axis position
      const int64_t last = indices->shape().back();
      const int64_t last_stride = data_strides.back();
      const std::vector<int64_t> row_dims(indices->shape().begin(), indices->shape().end() - 1);
      ctx.pool().parallel_for(shape_numel(row_dims), grain_for(last), [&](int64_t begin, int64_t end) {
        for_each_strided<1>(row_dims, {data_strides.data()}, {0}, begin, end,
                            [&](int64_t row, const std::array<int64_t, 1>& off) {
                              const int64_t* row_idx = idx.data() + row * last;
                              T* row_out = dst + row * last;
                              for (int64_t j = 0; j < last; ++j)
                                row_out[j] = src[off[0] + j * last_stride + row_idx[j] * axis_stride];
                            });
      });
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
};

// The last axis of indices holds tuples that address data after the first batch_dims axes
// (which indices and data share); each tuple selects the slice data[b, tuple, ...].
class GatherNDKernel final : public KernelBase {
 public:
  explicit GatherNDKernel(const KernelInfo& info) : batch_dims_(info.node.attr_int("batch_dims", 0)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *indices;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "GatherND", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "GatherND", &indices));
    HS_RETURN_IF_ERROR(require_index_dtype(*indices, "GatherND", "indices"));
    const int64_t b = batch_dims_, r = data->rank(), q = indices->rank();
    if (q < 1 || b < 0 || b >= std::min(r, q))
      HS_FAIL(kShape, "GatherND: batch_dims ", b, " does not fit data rank ", r, " and indices rank ", q);
    const int64_t k = indices->shape().back();
    if (k < 1 || k > r - b) HS_FAIL(kShape, "GatherND: index tuples of length ", k, " do not fit data of rank ", r);
    for (int64_t d = 0; d < b; ++d)
      if (indices->dim(d) != data->dim(d))
        HS_FAIL(kShape, "GatherND: batch dimensions of indices ", shape_str(indices->shape()), " and data ",
                shape_str(data->shape()), " differ");
    Shape out_shape(indices->shape().begin(), indices->shape().end() - 1);
    out_shape.insert(out_shape.end(), data->shape().begin() + b + k, data->shape().end());
    const std::vector<int64_t> data_strides = strides_of(data->shape());
    const int64_t slice = shape_numel(Shape(data->shape().begin() + b + k, data->shape().end()));
    const int64_t batches = shape_numel(Shape(data->shape().begin(), data->shape().begin() + b));
    const int64_t batch_stride = b > 0 ? data_strides[(size_t)b - 1] : 0;
    const int64_t tuples = shape_numel(Shape(indices->shape().begin(), indices->shape().end() - 1));
    const int64_t tuples_per_batch = batches > 0 ? tuples / batches : 0;

    // Data offsets of every tuple, checked.
    const std::vector<int64_t> raw = indices->to_int64_vector();
    std::vector<int64_t> offsets((size_t)tuples);
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = (tuples_per_batch ? t / tuples_per_batch : 0) * batch_stride;
      for (int64_t i = 0; i < k; ++i) {
        int64_t v = raw[(size_t)(t * k + i)];
        const int64_t dim = data->dim(b + i);
        if (v < -dim || v >= dim) HS_FAIL(kInvalidArgument, "GatherND: index ", v, " is out of range for a dimension of ", dim);
        off += (v < 0 ? v + dim : v) * data_strides[(size_t)(b + i)];
      }
      offsets[(size_t)t] = off;
    }
    return dispatch_by_size(data->dtype(), "GatherND", [&](auto tag) {
      using T = decltype(tag);
      Tensor* out = ctx.output(0, data->dtype(), out_shape);
      if (slice == 0) return Status::ok();
      const T* src = data->data<T>();
      T* dst = out->data<T>();
      ctx.pool().parallel_for(tuples, grain_for(slice), [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) copy_run(dst + t * slice, src + offsets[(size_t)t], slice);
      });
      return Status::ok();
    });
  }

 private:
  int64_t batch_dims_;
};

HS_REGISTER_KERNEL("", "Gather", GatherKernel);
HS_REGISTER_KERNEL("", "GatherElements", GatherElementsKernel);
HS_REGISTER_KERNEL("", "GatherND", GatherNDKernel);

}  // namespace
}  // namespace hs::cpu
