// Slice: input[start:end:step] along the listed axes (attributes before opset 10, inputs from then
// on; steps may be negative). Starts and ends are clamped as ONNX says: to [0, dim] for positive
// steps and to [0, dim - 1] / [-1, dim - 1] for negative ones.
//
// Algorithm: the slice is the input read through a strided view (offset start * stride, stride
// step * stride per axis), copied by strided_copy.h, or a zero-copy view when the selected
// elements are contiguous (a slice along the first non-unit axis with step 1).
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_copy.h"

namespace hs::cpu {
namespace {

struct AxisRange {
  int64_t start, length, step;
};

// The clamped range of one axis of length `dim`.
AxisRange clamp_range(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  int64_t length;
  if (step > 0) {
    start = std::min(std::max(start, (int64_t)0), dim);
    end = std::min(std::max(end, (int64_t)0), dim);
    length = end > start ? 1 + (end - start - 1) / step : 0;
  } else {
    start = std::min(std::max(start, (int64_t)0), dim - 1);
    end = std::min(std::max(end, (int64_t)-1), dim - 1);
    length = start > end ? 1 + (start - end - 1) / (step == INT64_MIN ? INT64_MAX : -step) : 0;
  }
  return AxisRange{length > 0 ? start : 0, length, step};
}

class SliceKernel final : public KernelBase {
 public:
  explicit SliceKernel(const KernelInfo& info) : from_inputs_(info.opset >= 10) {
    if (!from_inputs_) {
      attr_starts_ = info.node.attr_ints("starts");
      attr_ends_ = info.node.attr_ints("ends");
      attr_axes_ = info.node.attr_ints("axes");
    }
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Slice", &data));
    std::vector<int64_t> starts = attr_starts_, ends = attr_ends_, axes = attr_axes_, steps;
    if (from_inputs_) {
      const Tensor *starts_t, *ends_t;
      HS_RETURN_IF_ERROR(require_input(ctx, 1, "Slice", &starts_t));
      HS_RETURN_IF_ERROR(require_input(ctx, 2, "Slice", &ends_t));
      HS_RETURN_IF_ERROR(read_int_list(*starts_t, "Slice", "starts", &starts));
      HS_RETURN_IF_ERROR(read_int_list(*ends_t, "Slice", "ends", &ends));
      if (ctx.input(3)) HS_RETURN_IF_ERROR(read_int_list(*ctx.input(3), "Slice", "axes", &axes));
      if (ctx.input(4)) HS_RETURN_IF_ERROR(read_int_list(*ctx.input(4), "Slice", "steps", &steps));
    }
    const size_t n = starts.size();
    if (axes.empty())
      for (size_t i = 0; i < n; ++i) axes.push_back((int64_t)i);
    if (steps.empty()) steps.assign(n, 1);
    if (ends.size() != n || axes.size() != n || steps.size() != n)
      HS_FAIL(kShape, "Slice: starts, ends, axes and steps must have one length, got ", n, ", ", ends.size(), ", ",
              axes.size(), ", ", steps.size());
    HS_RETURN_IF_ERROR(normalize_axes(&axes, data->rank(), "Slice"));

    StridedView view = contiguous_view(data->shape());
    for (size_t i = 0; i < n; ++i) {
      if (steps[i] == 0) HS_FAIL(kInvalidArgument, "Slice: step of axis ", axes[i], " is 0");
      const size_t a = (size_t)axes[i];
      const AxisRange r = clamp_range(starts[i], ends[i], steps[i], data->shape()[a]);
      view.offset += r.start * view.strides[a];
      view.dims[a] = r.length;
      if (r.length > 1) view.strides[a] *= r.step;  // a huge step selects one element
    }
    const Shape out_shape = view.dims;
    return output_strided(ctx, 0, *data, view, out_shape, "Slice");
  }

 private:
  bool from_inputs_;
  std::vector<int64_t> attr_starts_, attr_ends_, attr_axes_;
};

HS_REGISTER_KERNEL("", "Slice", SliceKernel);

}  // namespace
}  // namespace hs::cpu
