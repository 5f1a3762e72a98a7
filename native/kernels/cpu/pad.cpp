// Pad: grows (or, with negative pads, crops) each axis by pads[begin] before and pads[end] after,
// the new elements being a constant, the mirror image without the edge (reflect), the edge value
// (edge) or the far side of the axis (wrap). Pads, the constant and axes are attributes before
// opset 11 and inputs from then on (axes from opset 18).
//
// Algorithm: negative pads crop first, then the positive ones pad what is left (as the ONNX
// reference does). For every axis a table maps each output position to its input position (or
// -1 for the constant). Output rows (the last axis) are filled in parallel: a row whose outer position
// maps to -1 is all constant; otherwise its middle, where output and input line up, is one
// memcpy and the few padded elements at either end go through the last axis' table.
#include <cstring>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

class PadKernel final : public KernelBase {
 public:
  explicit PadKernel(const KernelInfo& info) : from_inputs_(info.opset >= 11) {
    init_status = parse_pad_mode(info.node.attr_string("mode", "constant"), &mode_);
    if (!from_inputs_) {
      attr_pads_ = info.node.attr_ints("pads");
      attr_value_ = info.node.attr_float("value", 0.0f);
    }
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Pad", &data));
    const int64_t rank = data->rank();
    std::vector<int64_t> pads = attr_pads_, axes;
    if (from_inputs_) {
      const Tensor* pads_t;
      HS_RETURN_IF_ERROR(require_input(ctx, 1, "Pad", &pads_t));
      HS_RETURN_IF_ERROR(read_int_list(*pads_t, "Pad", "pads", &pads));
      if (ctx.input(3)) HS_RETURN_IF_ERROR(read_int_list(*ctx.input(3), "Pad", "axes", &axes));
    }
    std::vector<AxisPad> axis_pads;
    HS_RETURN_IF_ERROR(pad_axes(data->shape(), pads, axes, mode_, &axis_pads));
    Shape out_shape;
    for (int64_t d = 0; d < rank; ++d) out_shape.push_back(axis_pads[(size_t)d].out_len());
    return dispatch(data->dtype(), kAll, "Pad", [&](auto tag) -> Status {
      using T = decltype(tag);
      T value{};
      HS_RETURN_IF_ERROR(constant_value<T>(ctx, data->dtype(), &value));
      Tensor* out = ctx.output(0, data->dtype(), out_shape);
      if (out->numel() == 0) return Status::ok();
      pad_rows(data->data<T>(), data->shape(), out->data<T>(), axis_pads, value, ctx.pool());
      return Status::ok();
    });
  }

 private:
  template <typename T>
  Status constant_value(const KernelContext& ctx, DType dtype, T* value) const {
    if (!from_inputs_) {
      if constexpr (is_half<T>::value) *value = from_float<T>(attr_value_);
      else *value = (T)attr_value_;
      return Status::ok();
    }
    const Tensor* v = ctx.input(2);
    if (!v || v->numel() == 0) {
      std::memset(value, 0, sizeof(T));
      return Status::ok();
    }
    if (v->dtype() != dtype) HS_FAIL(kType, "Pad: constant_value is ", dtype_name(v->dtype()), ", data is ", dtype_name(dtype));
    if (v->numel() != 1) HS_FAIL(kShape, "Pad: constant_value must be a scalar, got shape ", shape_str(v->shape()));
    *value = v->data<T>()[0];
    return Status::ok();
  }

  template <typename T>
  void pad_rows(const T* src, const Shape& in_shape, T* dst, const std::vector<AxisPad>& axis_pads, T value,
                ThreadPool& pool) const {
    const size_t rank = axis_pads.size();  // a scalar pads as a one-element vector
    const std::vector<int64_t> in_strides = strides_of(in_shape.empty() ? Shape{1} : in_shape);
    Shape out;
    std::vector<std::vector<int64_t>> maps(rank);
    for (size_t d = 0; d < rank; ++d) {
      const AxisPad& p = axis_pads[d];
      out.push_back(p.out_len());
      for (int64_t i = 0; i < p.out_len(); ++i) {
        const int64_t m = source_index(i, p.before, p.kept, mode_);
        maps[d].push_back(m < 0 ? -1 : m + p.first);
      }
    }
    const AxisPad& last = axis_pads.back();
    const int64_t out_last = last.out_len();
    const int64_t mid_begin = std::min(last.before, out_last), mid_end = std::min(last.before + last.kept, out_last);
    const std::vector<int64_t>& last_map = maps.back();
    const int64_t rows = shape_numel(out) / out_last;
    pool.parallel_for(rows, grain_for(out_last), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        T* o = dst + row * out_last;
        int64_t in_offset = 0, rest = row;
        bool constant_row = false;
        for (size_t d = rank - 1; d-- > 0;) {
          const int64_t m = maps[d][(size_t)(rest % out[d])];
          rest /= out[d];
          if (m < 0) constant_row = true;
          in_offset += m * in_strides[d];
        }
        if (constant_row) {
          std::fill(o, o + out_last, value);
          continue;
        }
        const T* in_row = src + in_offset;
        for (int64_t j = 0; j < mid_begin; ++j) o[j] = last_map[(size_t)j] < 0 ? value : in_row[last_map[(size_t)j]];
        if (mid_end > mid_begin) std::memcpy(o + mid_begin, in_row + last.first, (size_t)(mid_end - mid_begin) * sizeof(T));
        for (int64_t j = std::max(mid_end, mid_begin); j < out_last; ++j)
          o[j] = last_map[(size_t)j] < 0 ? value : in_row[last_map[(size_t)j]];
      }
    });
  }

  bool from_inputs_;
  PadMode mode_ = PadMode::kConstant;
  std::vector<int64_t> attr_pads_;
  float attr_value_ = 0;
};

HS_REGISTER_KERNEL("", "Pad", PadKernel);

}  // namespace

Status parse_pad_mode(const std::string& mode, PadMode* out) {
  if (mode == "constant") *out = PadMode::kConstant;
  else if (mode == "reflect") *out = PadMode::kReflect;
  else if (mode == "edge") *out = PadMode::kEdge;
  else if (mode == "wrap") *out = PadMode::kWrap;
  else return Status(StatusCode::kUnsupportedOp, str_cat("Pad: mode '", mode, "' is not supported"));
  return Status::ok();
}

Status pad_axes(const Shape& shape, const std::vector<int64_t>& pads, std::vector<int64_t> axes, PadMode mode,
                std::vector<AxisPad>* out) {
  const int64_t rank = (int64_t)shape.size();
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  HS_RETURN_IF_ERROR(normalize_axes(&axes, rank, "Pad"));
  if (pads.size() != 2 * axes.size())
    HS_FAIL(kShape, "Pad: ", pads.size(), " pads do not fit ", axes.size(), " axes of input shape ", shape_str(shape));

  // Negative pads crop first; the positive ones then pad what is left. A scalar pads as a
  // one-element vector.
  std::vector<AxisPad>& axis_pads = *out;
  axis_pads.assign((size_t)std::max<int64_t>(rank, 1), AxisPad{});
  for (int64_t d = 0; d < rank; ++d) axis_pads[(size_t)d].kept = shape[(size_t)d];
  for (size_t i = 0; i < axes.size(); ++i) {
    AxisPad& p = axis_pads[(size_t)axes[i]];
    const int64_t begin = pads[i], end = pads[i + axes.size()];
    p.first = std::max(-begin, (int64_t)0);
    p.kept -= p.first + std::max(-end, (int64_t)0);
    p.before = std::max(begin, (int64_t)0);
    p.after = std::max(end, (int64_t)0);
    if (p.kept < 0) HS_FAIL(kShape, "Pad: pads ", shape_str(pads), " crop axis ", axes[i], " below zero");
    if (p.kept == 0 && p.before + p.after > 0 && mode != PadMode::kConstant)
      HS_FAIL(kShape, "Pad: cannot pad the empty axis ", axes[i], " in a non-constant mode");
  }
  return Status::ok();
}

}  // namespace hs::cpu
