// Operators on sequences and optionals: SequenceEmpty, SequenceLength, SequenceAt, SequenceInsert,
// SequenceErase, SplitToSequence, ConcatFromSequence, OptionalHasElement, OptionalGetElement.
// Sequences are immutable: an insert or erase makes a new one that shares the tensors.
#include <vector>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

// Kernels here read container inputs and may return them.
class ContainerKernel : public KernelBase {
 public:
  bool takes_strings() const override { return true; }
  bool takes_containers() const override { return true; }

 protected:
  // Input i as a sequence value.
  static Status sequence_input(const KernelContext& ctx, int i, const char* op, const Value** out) {
    *out = ctx.input_value(i);
    if (!*out || (*out)->kind() != ValueKind::kSequence) HS_FAIL(kType, op, ": input ", i, " must be a sequence");
    return Status::ok();
  }
  // A position in [-n, n) (or up to n itself where `end_ok`), normalised.
  static Status position(const Tensor* t, int64_t n, bool end_ok, int64_t fallback, const char* op, int64_t* out) {
    *out = fallback;
    if (t) HS_RETURN_IF_ERROR(read_int_scalar(*t, op, "position", out));
    if (*out < -n || *out > (end_ok ? n : n - 1)) HS_FAIL(kInvalidArgument, op, ": position ", *out, " is outside a sequence of ", n);
    if (*out < 0) *out += n;
    return Status::ok();
  }
};

class SequenceEmpty final : public ContainerKernel {
 public:
  explicit SequenceEmpty(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    ctx.set_output_value(0, Value::sequence({}));
    return Status::ok();
  }
};

class SequenceLength final : public ContainerKernel {
 public:
  explicit SequenceLength(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    const Value* s;
    HS_RETURN_IF_ERROR(sequence_input(ctx, 0, "SequenceLength", &s));
    *ctx.output(0, DType::kInt64, {})->data<int64_t>() = (int64_t)s->items().size();
    return Status::ok();
  }
};

class SequenceAt final : public ContainerKernel {
 public:
  explicit SequenceAt(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    const Value* s;
    HS_RETURN_IF_ERROR(sequence_input(ctx, 0, "SequenceAt", &s));
    int64_t at;
    if (!ctx.input(1)) HS_FAIL(kInvalidModel, "SequenceAt needs input 1 (position)");
    HS_RETURN_IF_ERROR(position(ctx.input(1), (int64_t)s->items().size(), false, 0, "SequenceAt", &at));
    ctx.set_output(0, s->items()[(size_t)at]);
    return Status::ok();
  }
};

class SequenceInsert final : public ContainerKernel {
 public:
  explicit SequenceInsert(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    const Value* s;
    const Tensor* t;
    HS_RETURN_IF_ERROR(sequence_input(ctx, 0, "SequenceInsert", &s));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "SequenceInsert", &t));
    std::vector<Tensor> items = s->items();
    if (!items.empty() && items[0].dtype() != t->dtype())
      HS_FAIL(kType, "SequenceInsert: a ", dtype_name(t->dtype()), " tensor into a sequence of ", dtype_name(items[0].dtype()));
    int64_t at;
    HS_RETURN_IF_ERROR(position(ctx.input(2), (int64_t)items.size(), true, (int64_t)items.size(), "SequenceInsert", &at));
    items.insert(items.begin() + at, *t);
    ctx.set_output_value(0, Value::sequence(std::move(items)));
    return Status::ok();
  }
};

class SequenceErase final : public ContainerKernel {
 public:
  explicit SequenceErase(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    const Value* s;
    HS_RETURN_IF_ERROR(sequence_input(ctx, 0, "SequenceErase", &s));
    std::vector<Tensor> items = s->items();
    int64_t at;
    HS_RETURN_IF_ERROR(position(ctx.input(1), (int64_t)items.size(), false, (int64_t)items.size() - 1, "SequenceErase", &at));
    items.erase(items.begin() + at);
    ctx.set_output_value(0, Value::sequence(std::move(items)));
    return Status::ok();
  }
};

class SplitToSequence final : public ContainerKernel {
 public:
  explicit SplitToSequence(const KernelInfo& info)
      : axis_(info.node.attr_int("axis", 0)), keepdims_(info.node.attr_int("keepdims", 1) != 0) {}
  Status compute(KernelContext& ctx) const override {
    const char* op = "SplitToSequence";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    if (dtype_size(x->dtype()) == 0) HS_FAIL(kType, op, " does not support dtype ", dtype_name(x->dtype()));
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of(op, axis_, x->rank(), &axis));
    const AxisLayout l = layout_around(x->shape(), axis);
    std::vector<int64_t> sizes;
    const Tensor* split = ctx.input(1);
    if (!split) {
      sizes.assign((size_t)l.axis_len, 1);
    } else if (split->rank() == 0) {
      int64_t chunk;
      HS_RETURN_IF_ERROR(read_int_scalar(*split, op, "split", &chunk));
      if (chunk < 1) HS_FAIL(kInvalidArgument, op, ": split ", chunk, " must be >= 1");
      for (int64_t at = 0; at < l.axis_len; at += chunk) sizes.push_back(std::min(chunk, l.axis_len - at));
    } else {
      HS_RETURN_IF_ERROR(read_int_list(*split, op, "split", &sizes));
      int64_t total = 0;
      for (int64_t v : sizes) {
        if (v < 0) HS_FAIL(kInvalidArgument, op, ": split sizes must be >= 0");
        total += v;
      }
      if (total != l.axis_len) HS_FAIL(kShape, op, ": split sizes sum to ", total, ", the axis has ", l.axis_len);
    }
    // Without `split` every item is one slice, and keepdims = 0 drops the axis.
    const bool drop = !split && !keepdims_;
    const size_t elem = dtype_size(x->dtype());
    std::vector<Tensor> items;
    std::vector<char*> parts;
    std::vector<int64_t> bytes;
    for (int64_t v : sizes) {
      Shape shape = x->shape();
      if (drop) shape.erase(shape.begin() + axis);
      else shape[(size_t)axis] = v;
      items.push_back(Tensor::empty(x->dtype(), shape));
      parts.push_back(static_cast<char*>(items.back().raw()));
      bytes.push_back(v * l.inner * (int64_t)elem);
    }
    copy_row_blocks(const_cast<char*>(static_cast<const char*>(x->raw())), parts, bytes, l.outer,
                    l.axis_len * l.inner * (int64_t)elem, false, ctx.pool());
    ctx.set_output_value(0, Value::sequence(std::move(items)));
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool keepdims_;
};

class ConcatFromSequence final : public ContainerKernel {
 public:
  explicit ConcatFromSequence(const KernelInfo& info)
      : axis_(info.node.attr_int("axis", 0)), new_axis_(info.node.attr_int("new_axis", 0) != 0) {}
  Status compute(KernelContext& ctx) const override {
    const char* op = "ConcatFromSequence";
    const Value* s;
    HS_RETURN_IF_ERROR(sequence_input(ctx, 0, op, &s));
    const std::vector<Tensor>& items = s->items();
    if (items.empty()) HS_FAIL(kInvalidArgument, op, ": the sequence is empty");
    const Shape& first = items[0].shape();
    const int64_t rank = (int64_t)first.size() + (new_axis_ ? 1 : 0);
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of(op, axis_, rank, &axis));
    Shape out = first;
    if (new_axis_) out.insert(out.begin() + axis, 0);
    else out[(size_t)axis] = 0;
    for (const Tensor& t : items) {
      if (t.dtype() != items[0].dtype()) HS_FAIL(kType, op, ": the sequence mixes dtypes");
      bool fits = t.rank() == (int64_t)first.size();
      for (int64_t d = 0; fits && d < t.rank(); ++d) fits = (!new_axis_ && d == axis) || t.dim(d) == first[(size_t)d];
      if (!fits) HS_FAIL(kShape, op, ": tensors of shape ", first, " and ", t.shape(), " do not concatenate along axis ", axis_);
      out[(size_t)axis] += new_axis_ ? 1 : t.dim(axis);
    }
    Tensor* y = ctx.output(0, items[0].dtype(), out);
    const size_t elem = dtype_size(y->dtype());
    if (elem == 0) HS_FAIL(kType, op, " does not support dtype ", dtype_name(y->dtype()));
    const AxisLayout ly = layout_around(out, axis);
    std::vector<char*> parts;
    std::vector<int64_t> bytes;
    for (const Tensor& t : items) {  // read only: gather copies from the parts
      parts.push_back(const_cast<char*>(static_cast<const char*>(t.raw())));
      bytes.push_back((new_axis_ ? 1 : t.dim(axis)) * ly.inner * (int64_t)elem);
    }
    copy_row_blocks(static_cast<char*>(y->raw()), parts, bytes, ly.outer, ly.axis_len * ly.inner * (int64_t)elem, true,
                    ctx.pool());
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool new_axis_;
};

// Opset 18 also takes a plain tensor or sequence (it has an element) or no input (it has none).
class OptionalHasElement final : public ContainerKernel {
 public:
  explicit OptionalHasElement(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    const Value* v = ctx.input_value(0);
    *ctx.output(0, DType::kBool, {})->data<bool>() = v && (!is_optional(v->kind()) || v->has_element());
    return Status::ok();
  }
};

class OptionalGetElement final : public ContainerKernel {
 public:
  explicit OptionalGetElement(const KernelInfo&) {}
  Status compute(KernelContext& ctx) const override {
    const Value* v = ctx.input_value(0);
    if (!v) HS_FAIL(kInvalidModel, "OptionalGetElement needs input 0");
    if (!is_optional(v->kind())) {
      ctx.set_output_value(0, *v);
      return Status::ok();
    }
    if (!v->has_element()) HS_FAIL(kInvalidArgument, "OptionalGetElement: the optional is empty");
    ctx.set_output_value(0, v->element());
    return Status::ok();
  }
};

}  // namespace

HS_REGISTER_KERNEL("", "SequenceEmpty", SequenceEmpty);
HS_REGISTER_KERNEL("", "SequenceLength", SequenceLength);
HS_REGISTER_KERNEL("", "SequenceAt", SequenceAt);
HS_REGISTER_KERNEL("", "SequenceInsert", SequenceInsert);
HS_REGISTER_KERNEL("", "SequenceErase", SequenceErase);
HS_REGISTER_KERNEL("", "SplitToSequence", SplitToSequence);
HS_REGISTER_KERNEL("", "ConcatFromSequence", ConcatFromSequence);
HS_REGISTER_KERNEL("", "OptionalHasElement", OptionalHasElement);
HS_REGISTER_KERNEL("", "OptionalGetElement", OptionalGetElement);

}  // namespace hs::cpu
