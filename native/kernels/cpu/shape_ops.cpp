// Shape operators: Reshape, Flatten, Squeeze, Unsqueeze (zero-copy views of their input with a
// new shape), Shape and Size (the input's shape as data), Expand (numpy broadcast, a strided copy
// with stride 0 on broadcast axes), and the constant makers Constant, ConstantOfShape and Range.

#include "kernels/cpu/movement.h"
#include "kernels/cpu/range_count.h"
#include "kernels/cpu/strided_copy.h"

namespace hs::cpu {
namespace {

// Reshape: `shape` (input 1) where 0 copies the input's dimension (a literal 0 with
// allowzero=1) and one -1 is inferred.
class ReshapeKernel final : public KernelBase {
 public:
  bool takes_strings() const override { return true; }  // a view
  explicit ReshapeKernel(const KernelInfo& info) : allow_zero_(info.node.attr_int("allowzero", 0) != 0) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Reshape", &data));
    const Tensor* shape;
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Reshape", &shape));
    std::vector<int64_t> requested;
    HS_RETURN_IF_ERROR(read_int_list(*shape, "Reshape", "shape", &requested));
    Shape out(requested.size());
    int64_t inferred = -1, known = 1;
    for (size_t i = 0; i < requested.size(); ++i) {
      int64_t d = requested[i];
      if (d == 0 && !allow_zero_) {
        if ((int64_t)i >= data->rank())
          HS_FAIL(kShape, "Reshape: shape ", shape_str(requested), " copies dimension ", i, " of input shape ",
                  shape_str(data->shape()), " which has no such dimension");
        d = data->dim((int64_t)i);
      } else if (d == -1) {
        if (inferred >= 0) HS_FAIL(kShape, "Reshape: shape ", shape_str(requested), " has more than one -1");
        inferred = (int64_t)i;
        continue;
      } else if (d < 0) {
        HS_FAIL(kShape, "Reshape: shape ", shape_str(requested), " has a negative dimension");
      }
      out[i] = d;
      known *= d;
    }
    if (inferred >= 0) {
      if (known == 0 || data->numel() % known != 0)
        HS_FAIL(kShape, "Reshape: cannot infer the -1 of ", shape_str(requested), " for input shape ",
                shape_str(data->shape()));
      out[(size_t)inferred] = data->numel() / known;
    }
    if (shape_numel(out) != data->numel())
      HS_FAIL(kShape, "Reshape: input shape ", shape_str(data->shape()), " cannot become ", shape_str(requested));
    ctx.set_output(0, data->reshaped(std::move(out)));
    return Status::ok();
  }

 private:
  bool allow_zero_;
};

// Flatten: [d0 .. d(axis-1)] x [d(axis) ..] as a 2-D view; axis in [-rank, rank].
class FlattenKernel final : public KernelBase {
 public:
  bool takes_strings() const override { return true; }  // a view
  explicit FlattenKernel(const KernelInfo& info) : axis_(info.node.attr_int("axis", 1)) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Flatten", &data));
    const int64_t rank = data->rank();
    if (axis_ < -rank || axis_ > rank) HS_FAIL(kInvalidArgument, "Flatten: axis ", axis_, " is out of range for rank ", rank);
    const AxisLayout l = layout_flattened_at(data->shape(), axis_ < 0 ? axis_ + rank : axis_);
    ctx.set_output(0, data->reshaped({l.outer, l.axis_len}));
    return Status::ok();
  }

 private:
  int64_t axis_;
};

// The axes of Squeeze/Unsqueeze: the `axes` attribute before opset 13, input 1 from then on.
class AxesKernelBase : public KernelBase {
 protected:
  AxesKernelBase(const KernelInfo& info) : axes_from_input_(info.opset >= 13) {
    if (!axes_from_input_) attr_axes_ = info.node.attr_ints("axes");
  }
  // The listed axes; empty when the model lists none. A scalar counts as one axis, as
  // onnxruntime reads it (the ONNX Loop test models write one).
  Status read_axes(const KernelContext& ctx, const char* op, std::vector<int64_t>* axes) const {
    if (!axes_from_input_) {
      *axes = attr_axes_;
    } else if (const Tensor* t = ctx.input(1); t && t->rank() == 0) {
      int64_t axis = 0;
      HS_RETURN_IF_ERROR(read_int_scalar(*t, op, "axes", &axis));
      *axes = {axis};
    } else if (t) {
      HS_RETURN_IF_ERROR(read_int_list(*t, op, "axes", axes));
    }
    return Status::ok();
  }
  bool axes_from_input() const { return axes_from_input_; }

 private:
  bool axes_from_input_;
  std::vector<int64_t> attr_axes_;
};

// Squeeze: drops the listed size-1 axes (every size-1 axis when none are listed).
class SqueezeKernel final : public AxesKernelBase {
 public:
  bool takes_strings() const override { return true; }  // a view
  explicit SqueezeKernel(const KernelInfo& info) : AxesKernelBase(info) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Squeeze", &data));
    std::vector<int64_t> axes;
    HS_RETURN_IF_ERROR(read_axes(ctx, "Squeeze", &axes));
    HS_RETURN_IF_ERROR(normalize_axes(&axes, data->rank(), "Squeeze"));
    std::vector<bool> drop((size_t)data->rank(), false);
    for (int64_t a : axes) {
      if (data->dim(a) != 1)
        HS_FAIL(kShape, "Squeeze: axis ", a, " of shape ", shape_str(data->shape()), " is not 1");
      drop[(size_t)a] = true;
    }
    Shape out;
    for (int64_t d = 0; d < data->rank(); ++d) {
      const bool squeezed = axes.empty() ? data->dim(d) == 1 : drop[(size_t)d];
      if (!squeezed) out.push_back(data->dim(d));
    }
    ctx.set_output(0, data->reshaped(std::move(out)));
    return Status::ok();
  }
};

// Unsqueeze: inserts size-1 axes at the listed positions of the output.
class UnsqueezeKernel final : public AxesKernelBase {
 public:
  bool takes_strings() const override { return true; }  // a view
  explicit UnsqueezeKernel(const KernelInfo& info) : AxesKernelBase(info) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Unsqueeze", &data));
    if (axes_from_input() && !ctx.input(1)) HS_FAIL(kInvalidModel, "Unsqueeze needs input 1 (axes)");
    std::vector<int64_t> axes;
    HS_RETURN_IF_ERROR(read_axes(ctx, "Unsqueeze", &axes));
    const int64_t out_rank = data->rank() + (int64_t)axes.size();
    HS_RETURN_IF_ERROR(normalize_axes(&axes, out_rank, "Unsqueeze"));
    std::vector<bool> inserted((size_t)out_rank, false);
    for (int64_t a : axes) inserted[(size_t)a] = true;
    Shape out((size_t)out_rank);
    size_t next = 0;
    for (int64_t d = 0; d < out_rank; ++d) out[(size_t)d] = inserted[(size_t)d] ? 1 : data->shape()[next++];
    ctx.set_output(0, data->reshaped(std::move(out)));
    return Status::ok();
  }
};

// Shape: the dimensions [start, end) of the input (both clamped to [0, rank]) as int64.
class ShapeKernel final : public KernelBase {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  explicit ShapeKernel(const KernelInfo& info) {
    start_ = info.node.attr_int("start", 0);
    const Attribute* end = info.node.attr("end");
    has_end_ = end != nullptr;
    end_ = end ? end->i : 0;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Shape", &data));
    const int64_t rank = data->rank();
    auto clamp = [rank](int64_t v) { return std::min(std::max(v < 0 ? v + rank : v, (int64_t)0), rank); };
    const int64_t start = clamp(start_), end = has_end_ ? clamp(end_) : rank;
    const int64_t len = std::max(end - start, (int64_t)0);
    Tensor* out = ctx.output(0, DType::kInt64, {len});
    for (int64_t i = 0; i < len; ++i) out->data<int64_t>()[i] = data->dim(start + i);
    return Status::ok();
  }

 private:
  int64_t start_ = 0, end_ = 0;
  bool has_end_ = false;
};

// Size: the element count as an int64 scalar.
class SizeKernel final : public KernelBase {
 public:
  bool takes_strings() const override { return true; }  // reads only the shape
  explicit SizeKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Size", &data));
    ctx.output(0, DType::kInt64, {})->data<int64_t>()[0] = data->numel();
    return Status::ok();
  }
};

// Expand: broadcasts the input against `shape` (either side may have the larger dimension).
class ExpandKernel final : public KernelBase {
 public:
  explicit ExpandKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *shape;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Expand", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Expand", &shape));
    std::vector<int64_t> requested;
    HS_RETURN_IF_ERROR(read_int_list(*shape, "Expand", "shape", &requested));
    HS_RETURN_IF_ERROR(check_dims(requested, "Expand"));
    Shape out;
    HS_RETURN_IF_ERROR(broadcast_shapes(data->shape(), requested, &out));
    StridedView view{out, broadcast_strides(data->shape(), out), 0};
    return output_strided(ctx, 0, *data, view, out, "Expand");
  }
};

// Constant: the tensor of whichever value* attribute the node has, made once at build time.
class ConstantKernel final : public KernelBase {
 public:
  explicit ConstantKernel(const KernelInfo& info) {
    const Node& n = info.node;
    if (const Attribute* a = n.attr("value")) {
      value_ = a->t;
    } else if (const Attribute* a = n.attr("value_float")) {
      value_ = Tensor::empty(DType::kFloat32, {});
      value_.data<float>()[0] = a->f;
    } else if (const Attribute* a = n.attr("value_floats")) {
      value_ = Tensor::empty(DType::kFloat32, {(int64_t)a->floats.size()});
      std::copy(a->floats.begin(), a->floats.end(), value_.data<float>());
    } else if (const Attribute* a = n.attr("value_int")) {
      value_ = Tensor::empty(DType::kInt64, {});
      value_.data<int64_t>()[0] = a->i;
    } else if (const Attribute* a = n.attr("value_ints")) {
      value_ = Tensor::empty(DType::kInt64, {(int64_t)a->ints.size()});
      std::copy(a->ints.begin(), a->ints.end(), value_.data<int64_t>());
    } else if (const Attribute* a = n.attr("value_string")) {
      value_ = Tensor::strings({}, {a->s});
    } else if (const Attribute* a = n.attr("value_strings")) {
      value_ = Tensor::strings({(int64_t)a->strings.size()}, a->strings);
    } else {
      if (n.attr("sparse_value")) {
        init_status = Status(StatusCode::kUnsupportedOp, "Constant: attribute sparse_value is not supported");
        return;
      }
      init_status = Status(StatusCode::kInvalidModel, "Constant has no value attribute");
      return;
    }
    if (!value_.defined() || (dtype_size(value_.dtype()) == 0 && value_.dtype() != DType::kString))
      init_status = Status(StatusCode::kUnsupportedOp, str_cat("Constant: value of dtype ", dtype_name(value_.dtype()),
                                                               " is not supported"));
  }

  Status compute(KernelContext& ctx) const override {
    ctx.set_output(0, value_);
    return Status::ok();
  }

 private:
  Tensor value_;
};

// ConstantOfShape: a tensor of the input shape filled with the one-element `value` (float 0
// by default).
class ConstantOfShapeKernel final : public KernelBase {
 public:
  explicit ConstantOfShapeKernel(const KernelInfo& info) {
    if (const Attribute* a = info.node.attr("value")) {
      value_ = a->t;
      if (!value_.defined() || value_.numel() != 1 || dtype_size(value_.dtype()) == 0)
        init_status = Status(StatusCode::kInvalidModel, "ConstantOfShape: value must be a one-element numeric tensor");
    } else {
      value_ = Tensor::zeros(DType::kFloat32, {1});
    }
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* shape;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "ConstantOfShape", &shape));
    std::vector<int64_t> out_shape;
    HS_RETURN_IF_ERROR(read_int_list(*shape, "ConstantOfShape", "shape", &out_shape));
    HS_RETURN_IF_ERROR(check_dims(out_shape, "ConstantOfShape"));
    return dispatch_by_size(value_.dtype(), "ConstantOfShape", [&](auto tag) {
      using T = decltype(tag);
      Tensor* out = ctx.output(0, value_.dtype(), out_shape);
      std::fill(out->data<T>(), out->data<T>() + out->numel(), value_.data<T>()[0]);
      return Status::ok();
    });
  }

 private:
  Tensor value_;
};

// Range: start, start + delta, ... up to (excluding) limit; range_count values.
class RangeKernel final : public KernelBase {
 public:
  explicit RangeKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *start, *limit, *delta;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Range", &start));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Range", &limit));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, "Range", &delta));
    for (const Tensor* t : {start, limit, delta}) {
      if (t->numel() != 1 || t->rank() > 1) HS_FAIL(kShape, "Range: start, limit and delta must be scalars");
      if (t->dtype() != start->dtype()) HS_FAIL(kType, "Range: start, limit and delta must have one dtype");
    }
    return dispatch(start->dtype(), kFloats | kSignedInts, "Range", [&](auto tag) -> Status {
      using T = decltype(tag);
      if constexpr (is_half<T>::value) {
        return Status(StatusCode::kType, str_cat("Range does not support dtype ", dtype_name(start->dtype())));
      } else {
        const T first = start->data<T>()[0], end = limit->data<T>()[0], step = delta->data<T>()[0];
        if (step == 0) HS_FAIL(kInvalidArgument, "Range: delta is 0");
        const int64_t count = range_count(first, end, step);
        Tensor* out = ctx.output(0, start->dtype(), {count});
        T* values = out->data<T>();
        for (int64_t i = 0; i < count; ++i) values[i] = (T)(first + (T)i * step);
        return Status::ok();
      }
    });
  }
};

HS_REGISTER_KERNEL("", "Reshape", ReshapeKernel);
HS_REGISTER_KERNEL("", "Flatten", FlattenKernel);
HS_REGISTER_KERNEL("", "Squeeze", SqueezeKernel);
HS_REGISTER_KERNEL("", "Unsqueeze", UnsqueezeKernel);
HS_REGISTER_KERNEL("", "Shape", ShapeKernel);
HS_REGISTER_KERNEL("", "Size", SizeKernel);
HS_REGISTER_KERNEL("", "Expand", ExpandKernel);
HS_REGISTER_KERNEL("", "Constant", ConstantKernel);
HS_REGISTER_KERNEL("", "ConstantOfShape", ConstantOfShapeKernel);
HS_REGISTER_KERNEL("", "Range", RangeKernel);

}  // namespace
}  // namespace hs::cpu
