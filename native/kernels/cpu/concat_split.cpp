// Concat and Split along one axis.
//
// Algorithm: every tensor is viewed as [outer, axis * inner] rows of bytes (axis_layout.h);
// Concat copies each input's row o into its place in output row o, Split the reverse. Both are
// parallel over (outer row, tensor) pairs. When outer is 1 (splitting along the first non-unit
// axis), Split's outputs are zero-copy views into the input's buffer.
#include <cstring>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {

void copy_row_blocks(char* whole, const std::vector<char*>& parts, const std::vector<int64_t>& sizes,
                     int64_t outer, int64_t total, bool gather, ThreadPool& pool) {
  std::vector<int64_t> offsets(parts.size(), 0);
  for (size_t p = 1; p < parts.size(); ++p) offsets[p] = offsets[p - 1] + sizes[p - 1];
  const int64_t n_parts = (int64_t)parts.size();
  const int64_t avg_bytes = n_parts ? total / n_parts : 0;
  pool.parallel_for(outer * n_parts, grain_for(avg_bytes, 1 << 18), [&](int64_t begin, int64_t end) {
    for (int64_t job = begin; job < end; ++job) {
      const int64_t o = job / n_parts, p = job % n_parts;
      const int64_t bytes = sizes[(size_t)p];
      if (bytes == 0 || !parts[(size_t)p]) continue;
      char* w = whole + o * total + offsets[(size_t)p];
      char* part = parts[(size_t)p] + o * bytes;
      if (gather) std::memcpy(w, part, (size_t)bytes);
      else std::memcpy(part, w, (size_t)bytes);
    }
  });
}

Status split_parts(const Shape& shape, int64_t axis_attr, int64_t outputs, bool num_outputs_attr,
                   std::vector<int64_t>* split, int64_t* axis) {
  HS_RETURN_IF_ERROR(normalize_axis_of("Split", axis_attr, (int64_t)shape.size(), axis));
  const int64_t dim = shape[(size_t)*axis];
  if (split->empty()) {
    if (dim % outputs != 0 && !num_outputs_attr)
      HS_FAIL(kShape, "Split: axis ", *axis, " of shape ", shape_str(shape), " does not split into ", outputs, " equal parts");
    const int64_t chunk = (dim + outputs - 1) / outputs;
    for (int64_t i = 0; i < outputs; ++i) split->push_back(std::max(std::min(chunk, dim - i * chunk), (int64_t)0));
  }
  int64_t sum = 0;
  for (int64_t s : *split) {
    if (s < 0) HS_FAIL(kShape, "Split: negative part size in ", shape_str(*split));
    sum += s;
  }
  if ((int64_t)split->size() != outputs || sum != dim)
    HS_FAIL(kShape, "Split: parts ", shape_str(*split), " do not split axis ", *axis, " of shape ", shape_str(shape),
            " into ", outputs, " outputs");
  return Status::ok();
}

namespace {

class ConcatKernel final : public KernelBase {
 public:
  explicit ConcatKernel(const KernelInfo& info) {
    const Attribute* axis = info.node.attr("axis");
    if (!axis) init_status = Status(StatusCode::kInvalidModel, "Concat needs the axis attribute");
    else axis_ = axis->i;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* first;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Concat", &first));
    const int64_t rank = first->rank();
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("Concat", axis_, rank, &axis));
    Shape out_shape = first->shape();
    out_shape[(size_t)axis] = 0;
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t;
      HS_RETURN_IF_ERROR(require_input(ctx, i, "Concat", &t));
      if (t->dtype() != first->dtype())
        HS_FAIL(kType, "Concat: input ", i, " is ", dtype_name(t->dtype()), ", input 0 is ", dtype_name(first->dtype()));
      bool fits = t->rank() == rank;
      for (int64_t d = 0; fits && d < rank; ++d) fits = d == axis || t->dim(d) == first->dim(d);
      if (!fits)
        HS_FAIL(kShape, "Concat: input ", i, " of shape ", shape_str(t->shape()), " does not fit input 0 of shape ",
                shape_str(first->shape()), " along axis ", axis);
      out_shape[(size_t)axis] += t->dim(axis);
      inputs.push_back(t);
    }
    Tensor* out = ctx.output(0, first->dtype(), out_shape);
    if (out->numel() == 0) return Status::ok();
    const int64_t elem = (int64_t)dtype_size(first->dtype());
    const AxisLayout l = layout_around(out_shape, axis);
    std::vector<char*> parts;
    std::vector<int64_t> sizes;
    for (const Tensor* t : inputs) {
      parts.push_back(static_cast<char*>(t->raw()));
      sizes.push_back(t->dim(axis) * l.inner * elem);
    }
    copy_row_blocks(static_cast<char*>(out->raw()), parts, sizes, l.outer, l.axis_len * l.inner * elem, true, ctx.pool());
    return Status::ok();
  }

 private:
  int64_t axis_ = 0;
};

// Split: part sizes from the `split` input (opset 13+) or attribute, else equal parts (with
// num_outputs at opset 18 the last part may be smaller).
class SplitKernel final : public KernelBase {
 public:
  explicit SplitKernel(const KernelInfo& info) : axis_(info.node.attr_int("axis", 0)) {
    split_from_input_ = info.opset >= 13;
    if (!split_from_input_) attr_split_ = info.node.attr_ints("split");
    num_outputs_attr_ = info.node.attr("num_outputs") != nullptr;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Split", &data));
    std::vector<int64_t> split = attr_split_;
    if (split_from_input_ && ctx.input(1)) HS_RETURN_IF_ERROR(read_int_list(*ctx.input(1), "Split", "split", &split));
    int64_t axis = 0;
    const int64_t n = ctx.num_outputs();
    HS_RETURN_IF_ERROR(split_parts(data->shape(), axis_, n, num_outputs_attr_, &split, &axis));

    const int64_t elem = (int64_t)dtype_size(data->dtype());
    const AxisLayout l = layout_around(data->shape(), axis);
    std::vector<char*> parts;
    std::vector<int64_t> sizes;
    int64_t offset = 0;
    for (int64_t i = 0; i < n; ++i) {
      Shape shape = data->shape();
      shape[(size_t)axis] = split[(size_t)i];
      const int64_t bytes = split[(size_t)i] * l.inner * elem;
      if (!ctx.output_wanted((int)i)) {
        parts.push_back(nullptr);
      } else if (l.outer == 1 && bytes > 0) {
        ctx.set_output((int)i, Tensor(data->dtype(), shape, data->buffer(), data->offset() + (size_t)offset));
        parts.push_back(nullptr);
      } else {
        parts.push_back(static_cast<char*>(ctx.output((int)i, data->dtype(), shape)->raw()));
      }
      sizes.push_back(bytes);
      offset += bytes;
    }
    if (data->numel() > 0)
      copy_row_blocks(static_cast<char*>(data->raw()), parts, sizes, l.outer, l.axis_len * l.inner * elem, false,
                      ctx.pool());
    return Status::ok();
  }

 private:
  int64_t axis_;
  bool split_from_input_ = false;
  bool num_outputs_attr_ = false;
  std::vector<int64_t> attr_split_;
};

HS_REGISTER_KERNEL("", "Concat", ConcatKernel);
HS_REGISTER_KERNEL("", "Split", SplitKernel);

}  // namespace
}  // namespace hs::cpu
