// Resize (opsets 10 to 19) and Upsample (opsets 7 to 9, Resize-10 with its scales an attribute
// before opset 9): nearest, linear and cubic resampling of any axes, sized by `scales`
// or `sizes` (with axes and keep_aspect_ratio_policy from opset 18), every
// coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside, antialias and
// extrapolation_value (tf_crop_and_resize with roi). Attributes and geometry are in
// resize_attrs.h, the per-axis taps in resize_taps.h.
//
// Algorithm: nearest is one gather pass: each output row (the last axis) starts at the input
// row its outer positions select and reads the last axis through its index table (or copies the
// row before when it reads the same input row). Linear and
// cubic are separable: one pass per resized axis (shrinking axes first, so later passes touch
// fewer elements) over the tensor viewed as [outer, axis, inner], each output row a weighted sum
// of a few input rows with a contiguous, vectorisable inner loop. Passes compute in float (double
// for float64) and run parallel over output rows.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"
#include "kernels/cpu/resize_attrs.h"
#include "kernels/cpu/resize_taps.h"

namespace hs::cpu {
namespace {

// Accumulator -> element; integer types truncate (as the ONNX reference and onnxruntime do) and
// saturate.
template <typename T, typename A>
inline T store_saturated(A v) {
  if constexpr (std::is_integral_v<T>) {
    const A lo = (A)std::numeric_limits<T>::lowest(), hi = (A)std::numeric_limits<T>::max();
    return (T)std::trunc(std::min(std::max(v, lo), hi));
  } else {
    return store_as<T>(v);
  }
}

// One separable pass: [outer, in_len, inner] -> [outer, out_len, inner] through `taps`.
template <typename A>
void resample_axis(const A* in, A* out, const AxisLayout& l, const AxisTaps& taps, A extrapolation, ThreadPool& pool) {
  const int64_t out_len = (int64_t)taps.outside.size(), inner = l.inner, width = taps.width;
  const std::vector<A> weights(taps.weight.begin(), taps.weight.end());
  if (inner == 1) {  // the last axis: each output element is a dot product of `width` inputs
    pool.parallel_for(l.outer, grain_for(out_len * width), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const A* src = in + o * l.axis_len;
        A* dst = out + o * out_len;
        for (int64_t x = 0; x < out_len; ++x) {
          const int64_t* index = &taps.index[(size_t)(x * width)];
          const A* weight = &weights[(size_t)(x * width)];
          A sum = 0;
          for (int64_t t = 0; t < width; ++t) sum += weight[t] * src[index[t]];
          dst[x] = taps.outside[(size_t)x] ? extrapolation : sum;
        }
      }
    });
    return;
  }
  pool.parallel_for(l.outer * out_len, grain_for(inner * width), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row / out_len, x = row % out_len;
      A* dst = out + row * inner;
      if (taps.outside[(size_t)x]) {
        std::fill(dst, dst + inner, extrapolation);
        continue;
      }
      const int64_t* index = &taps.index[(size_t)(x * width)];
      const A* weight = &weights[(size_t)(x * width)];
      const A* base = in + o * l.axis_len * inner;
      const A* src0 = base + index[0] * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] = weight[0] * src0[i];
      for (int64_t t = 1; t < width; ++t) {
        if (weight[t] == 0) continue;
        const A* src = base + index[t] * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += weight[t] * src[i];
      }
    }
  });
}

// Nearest: out[p] = in[index_0[p0], ..., index_n[pn]], or the extrapolation value where any
// axis is outside. An output row that reads the same input row as the one before it (upsampling
// along an outer axis) is a copy of that row.
template <typename T>
void gather_nearest(const T* in, const Shape& in_shape, T* out, const Shape& out_shape, const std::vector<AxisTaps>& taps,
                    T extrapolation, ThreadPool& pool) {
  const size_t rank = in_shape.size();
  const std::vector<int64_t> in_strides = strides_of(in_shape);
  const int64_t out_last = out_shape.back();
  const AxisTaps& last = taps.back();
  const bool last_outside = std::find(last.outside.begin(), last.outside.end(), 1) != last.outside.end();
  pool.parallel_for(shape_numel(out_shape) / out_last, grain_for(out_last), [&](int64_t begin, int64_t end) {
    int64_t previous = -1;  // input offset of the row before, when it was gathered in this chunk
    for (int64_t row = begin; row < end; ++row) {
      T* dst = out + row * out_last;
      int64_t offset = 0, rest = row;
      bool outside = false;
      for (size_t d = rank - 1; d-- > 0;) {
        const int64_t x = rest % out_shape[d];
        rest /= out_shape[d];
        outside = outside || taps[d].outside[(size_t)x];
        offset += taps[d].index[(size_t)x] * in_strides[d];
      }
      if (outside) {
        std::fill(dst, dst + out_last, extrapolation);
        previous = -1;
        continue;
      }
      if (offset == previous) {
        std::memcpy(dst, dst - out_last, (size_t)out_last * sizeof(T));
        continue;
      }
      previous = offset;
      const T* src = in + offset;
      const int64_t* index = last.index.data();
      if (last_outside) {
        for (int64_t j = 0; j < out_last; ++j) dst[j] = last.outside[(size_t)j] ? extrapolation : src[index[j]];
      } else {
        for (int64_t j = 0; j < out_last; ++j) dst[j] = src[index[j]];
      }
    }
  });
}

// Linear and cubic: one resample_axis pass per axis that changes, in accumulator precision A.
template <typename T>
void interpolate(const T* in, const Shape& in_shape, T* out, const Shape& out_shape, const std::vector<AxisTaps>& taps,
                 float extrapolation, ThreadPool& pool) {
  using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
  std::vector<size_t> axes;
  for (size_t d = 0; d < in_shape.size(); ++d)
    if (!taps[d].is_identity(in_shape[d])) axes.push_back(d);
  std::stable_sort(axes.begin(), axes.end(), [&](size_t a, size_t b) {
    return (double)out_shape[a] / (double)in_shape[a] < (double)out_shape[b] / (double)in_shape[b];
  });
  constexpr bool kSameType = std::is_same_v<T, A>;
  // Pass k reads the previous pass' buffer and writes scratch[k % 2]; the last pass writes
  // straight into `out` when T is already the accumulator type.
  std::vector<A> converted, scratch[2];
  const A* src;
  if constexpr (kSameType) {
    src = in;
  } else {
    converted.resize((size_t)shape_numel(in_shape));
    for (size_t i = 0; i < converted.size(); ++i) converted[i] = load_as<A>(in[i]);
    src = converted.data();
  }
  Shape shape = in_shape;
  for (size_t k = 0; k < axes.size(); ++k) {
    const size_t d = axes[k];
    const AxisLayout l = layout_around(shape, (int64_t)d);
    shape[d] = out_shape[d];
    A* dst;
    if (kSameType && k + 1 == axes.size()) {
      dst = reinterpret_cast<A*>(out);
    } else {
      scratch[k % 2].resize((size_t)shape_numel(shape));
      dst = scratch[k % 2].data();
    }
    resample_axis(src, dst, l, taps[d], (A)extrapolation, pool);
    src = dst;
  }
  if (kSameType && !axes.empty()) return;
  const int64_t n = shape_numel(out_shape);
  for (int64_t i = 0; i < n; ++i) out[i] = store_saturated<T>(src[i]);
}

class ResizeKernel final : public KernelBase {
 public:
  explicit ResizeKernel(const KernelInfo& info) { init_status = parse_resize_attrs(info.node, info.opset, &attrs_); }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Resize", &x));
    auto input = [&](int i) { return i >= 0 && i < ctx.num_inputs() ? ctx.input(i) : nullptr; };
    std::vector<AxisGeometry> geometry;
    HS_RETURN_IF_ERROR(resize_geometry(attrs_, x->shape(), input(attrs_.roi_input()), input(attrs_.scales_input()),
                                       input(attrs_.sizes_input()), &geometry));
    Shape out_shape;
    for (const AxisGeometry& g : geometry) out_shape.push_back(g.out_len);
    if (shape_numel(out_shape) > 0 && x->numel() == 0)
      HS_FAIL(kShape, "Resize: cannot resize the empty input of shape ", shape_str(x->shape()), " to ", shape_str(out_shape));
    std::vector<AxisTaps> taps;
    if (shape_numel(out_shape) > 0)
      for (const AxisGeometry& g : geometry) taps.push_back(compute_taps(g, attrs_.options));
    return dispatch(x->dtype(), kNumeric, "Resize", [&](auto tag) {
      using T = decltype(tag);
      Tensor* out = ctx.output(0, x->dtype(), out_shape);
      if (out->numel() == 0) return Status::ok();
      if (x->rank() == 0) {
        out->data<T>()[0] = x->data<T>()[0];
      } else if (attrs_.options.mode == ResizeMode::kNearest) {
        gather_nearest(x->data<T>(), x->shape(), out->data<T>(), out_shape, taps, store_saturated<T>(attrs_.extrapolation), ctx.pool());
      } else {
        interpolate(x->data<T>(), x->shape(), out->data<T>(), out_shape, taps, attrs_.extrapolation, ctx.pool());
      }
      return Status::ok();
    });
  }

 private:
  ResizeAttrs attrs_;
};

HS_REGISTER_KERNEL("", "Resize", ResizeKernel);
HS_REGISTER_KERNEL("", "Upsample", ResizeKernel);

}  // namespace
}  // namespace hs::cpu
