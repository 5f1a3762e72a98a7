// ScatterElements (and its older name Scatter) and ScatterND: a copy of the data tensor with
// the updates written at the positions the indices give, replacing the old value or combining
// with it (reduction none | add | mul | max | min; bools combine as or/and).
//
// Algorithm: the output starts as a parallel copy of the data; indices are read and checked
// into data offsets (GatherElements' odometer for ScatterElements, one offset per index tuple
// for ScatterND), then updates are applied in index order on one thread, so that repeated
// indices resolve deterministically (the last write wins, or all are combined).
#include <algorithm>
#include <cstring>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_loop.h"

namespace hs::cpu {
namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Status parse_reduction(const Node& node, Reduction* out) {
  const std::string r = node.attr_string("reduction", "none");
  if (r == "none") *out = Reduction::kNone;
  else if (r == "add") *out = Reduction::kAdd;
  else if (r == "mul") *out = Reduction::kMul;
  else if (r == "max") *out = Reduction::kMax;
  else if (r == "min") *out = Reduction::kMin;
  else return Status(StatusCode::kUnsupportedOp, str_cat(node.op_type, ": reduction '", r, "' is not supported"));
  return Status::ok();
}

template <typename T>
inline T combine(T old_value, T update, Reduction r) {
  if constexpr (is_half<T>::value) {
    return from_float<T>(combine(to_float(old_value), to_float(update), r));
  } else if constexpr (std::is_same_v<T, bool>) {
    if (r == Reduction::kNone) return update;
    return (r == Reduction::kAdd || r == Reduction::kMax) ? (old_value || update) : (old_value && update);
  } else {
    switch (r) {
      case Reduction::kAdd: return (T)(old_value + update);
      case Reduction::kMul: return (T)(old_value * update);
      case Reduction::kMax: return std::max(old_value, update);
      case Reduction::kMin: return std::min(old_value, update);
      case Reduction::kNone: break;
    }
    return update;
  }
}

// Output = data, then out[offsets[u] + i] (combined with) updates[u * run + i] for every update
// run u of `run` elements.
Status scatter_runs(KernelContext& ctx, const Tensor& data, const Tensor& updates, const std::vector<int64_t>& offsets,
                    int64_t run, Reduction reduction, const char* op) {
  return dispatch(data.dtype(), kAll, op, [&](auto tag) {
    using T = decltype(tag);
    Tensor* out = ctx.output(0, data.dtype(), data.shape());
    T* dst = out->data<T>();
    const T* src = data.data<T>();
    const size_t bytes = data.nbytes();
    ctx.pool().parallel_for((int64_t)bytes, 1 << 20, [&](int64_t begin, int64_t end) {
      std::memcpy((char*)dst + begin, (const char*)src + begin, (size_t)(end - begin));
    });
    const T* upd = updates.data<T>();
    for (size_t u = 0; u < offsets.size(); ++u) {
      T* target = dst + offsets[u];
      const T* value = upd + (int64_t)u * run;
      if (reduction == Reduction::kNone) {
        std::copy(value, value + run, target);
      } else {
        for (int64_t i = 0; i < run; ++i) target[i] = combine(target[i], value[i], reduction);
      }
    }
    return Status::ok();
  });
}

class ScatterElementsKernel final : public KernelBase {
 public:
  explicit ScatterElementsKernel(const KernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {
    init_status = parse_reduction(info.node, &reduction_);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *indices, *updates;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "ScatterElements", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "ScatterElements", &indices));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, "ScatterElements", &updates));
    HS_RETURN_IF_ERROR(require_index_dtype(*indices, "ScatterElements", "indices"));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("ScatterElements", axis_, data->rank(), &axis));
    if (updates->dtype() != data->dtype())
      HS_FAIL(kType, "ScatterElements: updates are ", dtype_name(updates->dtype()), ", data is ", dtype_name(data->dtype()));
    if (updates->shape() != indices->shape())
      HS_FAIL(kShape, "ScatterElements: updates of shape ", shape_str(updates->shape()), " differ from indices of shape ",
              shape_str(indices->shape()));
    bool fits = indices->rank() == data->rank();
    for (int64_t d = 0; fits && d < data->rank(); ++d) fits = d == axis || indices->dim(d) <= data->dim(d);
    if (!fits)
      HS_FAIL(kShape, "ScatterElements: indices of shape ", shape_str(indices->shape()), " do not fit data of shape ",
              shape_str(data->shape()), " along axis ", axis);

    const std::vector<int64_t> idx = indices->to_int64_vector();
    std::vector<int64_t> offsets(idx.size());
    std::vector<int64_t> data_strides = strides_of(data->shape());
    const int64_t axis_stride = data_strides[(size_t)axis], dim = data->dim(axis);
    data_strides[(size_t)axis] = 0;  // the index supplies the axis position
    Status bad = Status::ok();
    for_each_strided<1>(indices->shape(), {data_strides.data()}, {0}, 0, indices->numel(),
                        [&](int64_t u, const std::array<int64_t, 1>& off) {
                          int64_t i = idx[(size_t)u];
                          if ((i < -dim || i >= dim) && bad.is_ok())
                            bad = Status(StatusCode::kInvalidArgument, str_cat("ScatterElements: index ", i,
                                                                               " is out of range for a dimension of ", dim));
                          offsets[(size_t)u] = off[0] + (i < 0 ? i + dim : i) * axis_stride;
                        });
    HS_RETURN_IF_ERROR(bad);
    return scatter_runs(ctx, *data, *updates, offsets, 1, reduction_, "ScatterElements");
  }

 private:
  int64_t axis_;
  Reduction reduction_ = Reduction::kNone;
};

// Each index tuple (the last axis of indices) addresses a slice data[tuple, ...] that the
// matching slice of updates (shape indices.shape[:-1] + data.shape[k:]) writes.
class ScatterNDKernel final : public KernelBase {
 public:
  explicit ScatterNDKernel(const KernelInfo& info) { init_status = parse_reduction(info.node, &reduction_); }

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *indices, *updates;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "ScatterND", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "ScatterND", &indices));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, "ScatterND", &updates));
    HS_RETURN_IF_ERROR(require_index_dtype(*indices, "ScatterND", "indices"));
    if (updates->dtype() != data->dtype())
      HS_FAIL(kType, "ScatterND: updates are ", dtype_name(updates->dtype()), ", data is ", dtype_name(data->dtype()));
    const int64_t k = indices->rank() > 0 ? indices->shape().back() : 0;
    if (indices->rank() < 1 || k < 1 || k > data->rank())
      HS_FAIL(kShape, "ScatterND: indices of shape ", shape_str(indices->shape()), " do not fit data of shape ",
              shape_str(data->shape()));
    Shape expected(indices->shape().begin(), indices->shape().end() - 1);
    expected.insert(expected.end(), data->shape().begin() + k, data->shape().end());
    if (updates->shape() != expected)
      HS_FAIL(kShape, "ScatterND: updates must have shape ", shape_str(expected), ", got ", shape_str(updates->shape()));

    const std::vector<int64_t> strides = strides_of(data->shape());
    const int64_t run = shape_numel(Shape(data->shape().begin() + k, data->shape().end()));
    const std::vector<int64_t> raw = indices->to_int64_vector();
    std::vector<int64_t> offsets(raw.size() / (size_t)k);
    for (size_t t = 0; t < offsets.size(); ++t) {
      int64_t off = 0;
      for (int64_t i = 0; i < k; ++i) {
        const int64_t v = raw[t * (size_t)k + (size_t)i], dim = data->dim(i);
        if (v < -dim || v >= dim) HS_FAIL(kInvalidArgument, "ScatterND: index ", v, " is out of range for a dimension of ", dim);
        off += (v < 0 ? v + dim : v) * strides[(size_t)i];
      }
      offsets[t] = off;
    }
    return scatter_runs(ctx, *data, *updates, offsets, run, reduction_, "ScatterND");
  }

 private:
  Reduction reduction_ = Reduction::kNone;
};

HS_REGISTER_KERNEL("", "ScatterElements", ScatterElementsKernel);
HS_REGISTER_KERNEL("", "Scatter", ScatterElementsKernel);
HS_REGISTER_KERNEL("", "ScatterND", ScatterNDKernel);

}  // namespace
}  // namespace hs::cpu
