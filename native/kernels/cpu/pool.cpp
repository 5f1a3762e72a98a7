// Pooling: MaxPool (with the optional Indices output, dilations, ceil_mode, storage_order),
// AveragePool (count_include_pad, dilations, ceil_mode) and GlobalAveragePool / GlobalMaxPool.
//
// Windowed pools view 1-D, 2-D and 3-D inputs as 3-D (unit axes in front) and run, for each
// (image, channel) plane in parallel, a direct loop over output positions and the window taps
// that fall inside the input; the tap range per axis is computed once per output coordinate, so
// the inner loops carry no bounds checks. Global pools reduce each plane with a contiguous
// (vectorisable) loop. Values are compared / summed in float (double for float64 input).
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/conv_geometry.h"

namespace hs::cpu {
namespace {

constexpr size_t kMaxSpatial = 3;

// Per axis (3 of them, leading unit axes for lower ranks): the output coordinate's first tap in
// input coordinates, and the range of taps that land inside the input.
struct Axis {
  int64_t in = 1, out = 1, kernel = 1, stride = 1, dilation = 1, pad = 0, pad_end = 0;
  // Taps t in [lo, hi) with 0 <= start + t*dilation < in.
  void taps(int64_t o, int64_t* start, int64_t* lo, int64_t* hi) const {
    *start = o * stride - pad;
    *lo = *start >= 0 ? 0 : (-*start + dilation - 1) / dilation;
    const int64_t last_inside = in - 1 - *start;  // taps t with t*dilation <= last_inside
    *hi = last_inside < 0 ? 0 : std::min(kernel, last_inside / dilation + 1);
    *lo = std::min(*lo, *hi);
  }
  // Taps inside [-pad, in + pad_end): what count_include_pad counts.
  int64_t padded_taps(int64_t start) const {
    int64_t count = 0;
    for (int64_t t = 0; t < kernel; ++t) {
      const int64_t i = start + t * dilation;
      count += i >= -pad && i < in + pad_end;
    }
    return count;
  }
};

struct PoolGeometry {
  Axis axes[kMaxSpatial];
  int64_t planes = 0;
  Shape out_shape;
};

Status pool_geometry(const WindowAttrs& attrs, const Shape& xs, PoolGeometry* pg) {
  if (xs.size() < 3 || xs.size() > 2 + kMaxSpatial)
    HS_FAIL(kShape, "pooling input ", xs, " must have 1 to 3 spatial axes after batch and channels");
  const Shape in(xs.begin() + 2, xs.end());
  if (attrs.kernel_shape.empty()) HS_FAIL(kInvalidModel, "pooling needs the kernel_shape attribute");
  WindowGeometry g;
  HS_RETURN_IF_ERROR(forward_window(attrs, attrs.kernel_shape, in, &g));
  const size_t lead = kMaxSpatial - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    // As onnxruntime requires: a window that could lie wholly in padding has nothing to pool (and
    // pads of 2^30 would otherwise mean a huge, mostly empty output).
    if (g.pad_begin[i] >= g.kernel[i] || g.pad_end[i] >= g.kernel[i])
      HS_FAIL(kShape, "pooling pads ", attrs.pads, " must be smaller than the kernel ", attrs.kernel_shape);
    Axis& a = pg->axes[lead + i];
    a.in = in[i];
    a.out = g.out[i];
    a.kernel = g.kernel[i];
    a.stride = g.strides[i];
    a.dilation = g.dilations[i];
    a.pad = g.pad_begin[i];
    a.pad_end = g.pad_end[i];
  }
  pg->planes = xs[0] * xs[1];
  pg->out_shape = {xs[0], xs[1]};
  pg->out_shape.insert(pg->out_shape.end(), g.out.begin(), g.out.end());
  return Status::ok();
}

template <typename T> using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
template <typename T> Acc<T> load(T v) {
  if constexpr (std::is_same_v<T, double> || std::is_integral_v<T>) return (Acc<T>)v;
  else return to_float(v);
}
template <typename T> T store(Acc<T> v) {
  if constexpr (std::is_same_v<T, double> || std::is_integral_v<T>) return (T)v;
  else return from_float<T>(v);
}

// Runs fn(plane, d, h, w, window) for every output position; window gives the tap ranges.
struct Window {
  int64_t start[kMaxSpatial], lo[kMaxSpatial], hi[kMaxSpatial];
};

template <typename F>
void for_each_output(const PoolGeometry& pg, ThreadPool& pool, F&& fn) {
  const Axis* ax = pg.axes;
  const int64_t per_plane = ax[0].out * ax[1].out * ax[2].out;
  const int64_t work = std::max<int64_t>(1, per_plane * ax[0].kernel * ax[1].kernel * ax[2].kernel);
  pool.parallel_for(pg.planes, std::max<int64_t>(1, (1 << 15) / work), [&](int64_t begin, int64_t end) {
    Window win;
    for (int64_t p = begin; p < end; ++p) {
      int64_t o = p * per_plane;
      for (int64_t d = 0; d < ax[0].out; ++d) {
        ax[0].taps(d, &win.start[0], &win.lo[0], &win.hi[0]);
        for (int64_t h = 0; h < ax[1].out; ++h) {
          ax[1].taps(h, &win.start[1], &win.lo[1], &win.hi[1]);
          for (int64_t w = 0; w < ax[2].out; ++w, ++o) {
            ax[2].taps(w, &win.start[2], &win.lo[2], &win.hi[2]);
            fn(p, o, win);
          }
        }
      }
    }
  });
}

class MaxPool : public KernelBase {
 public:
  explicit MaxPool(const KernelInfo& info) {
    init_status = parse_window_attrs(info.node, &attrs_);
    storage_order_ = info.node.attr_int("storage_order", 0);
    if (init_status.is_ok() && storage_order_ != 0 && storage_order_ != 1)
      init_status = Status(StatusCode::kInvalidModel, str_cat("attribute storage_order=", storage_order_, " must be 0 or 1"));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "MaxPool", &x));
    PoolGeometry pg;
    HS_RETURN_IF_ERROR(pool_geometry(attrs_, x->shape(), &pg));
    Tensor* y = ctx.output(0, x->dtype(), pg.out_shape);
    int64_t* indices = ctx.output_wanted(1) ? ctx.output(1, DType::kInt64, pg.out_shape)->data<int64_t>() : nullptr;
    return dispatch(x->dtype(), kFloats | kSignedInts | kUnsignedInts, "MaxPool", [&](auto tag) -> Status {
      using T = decltype(tag);
      run<T>(ctx, pg, x->data<T>(), y->data<T>(), indices);
      return Status::ok();
    });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx, const PoolGeometry& pg, const T* x, T* y, int64_t* indices) const {
    const Axis* ax = pg.axes;
    const int64_t plane_size = ax[0].in * ax[1].in * ax[2].in;
    const bool column_major = storage_order_ == 1;
    for_each_output(pg, ctx.pool(), [&](int64_t p, int64_t o, const Window& win) {
      const T* plane = x + p * plane_size;
      Acc<T> best = -std::numeric_limits<Acc<T>>::infinity();
      if constexpr (std::is_integral_v<T>) best = std::numeric_limits<T>::lowest();
      int64_t best_d = 0, best_h = 0, best_w = 0;
      bool found = false;
      for (int64_t td = win.lo[0]; td < win.hi[0]; ++td) {
        const int64_t d = win.start[0] + td * ax[0].dilation;
        for (int64_t th = win.lo[1]; th < win.hi[1]; ++th) {
          const int64_t h = win.start[1] + th * ax[1].dilation;
          const T* row = plane + (d * ax[1].in + h) * ax[2].in;
          for (int64_t tw = win.lo[2]; tw < win.hi[2]; ++tw) {
            const int64_t w = win.start[2] + tw * ax[2].dilation;
            const Acc<T> v = load(row[w]);
            if (!found || v > best) best = v, best_d = d, best_h = h, best_w = w, found = true;
          }
        }
      }
      y[o] = store<T>(best);
      if (indices) {
        const int64_t offset = column_major ? (best_w * ax[1].in + best_h) * ax[0].in + best_d
                                            : (best_d * ax[1].in + best_h) * ax[2].in + best_w;
        indices[o] = p * plane_size + offset;
      }
    });
  }

  WindowAttrs attrs_;
  int64_t storage_order_ = 0;
};

class AveragePool : public KernelBase {
 public:
  explicit AveragePool(const KernelInfo& info) {
    init_status = parse_window_attrs(info.node, &attrs_);
    count_include_pad_ = info.node.attr_int("count_include_pad", 0) != 0;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "AveragePool", &x));
    PoolGeometry pg;
    HS_RETURN_IF_ERROR(pool_geometry(attrs_, x->shape(), &pg));
    Tensor* y = ctx.output(0, x->dtype(), pg.out_shape);
    return dispatch(x->dtype(), kFloats, "AveragePool", [&](auto tag) -> Status {
      using T = decltype(tag);
      run<T>(ctx, pg, x->data<T>(), y->data<T>());
      return Status::ok();
    });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx, const PoolGeometry& pg, const T* x, T* y) const {
    const Axis* ax = pg.axes;
    const int64_t plane_size = ax[0].in * ax[1].in * ax[2].in;
    for_each_output(pg, ctx.pool(), [&](int64_t p, int64_t o, const Window& win) {
      const T* plane = x + p * plane_size;
      Acc<T> sum = 0;
      for (int64_t td = win.lo[0]; td < win.hi[0]; ++td) {
        const int64_t d = win.start[0] + td * ax[0].dilation;
        for (int64_t th = win.lo[1]; th < win.hi[1]; ++th) {
          const T* row = plane + (d * ax[1].in + win.start[1] + th * ax[1].dilation) * ax[2].in + win.start[2];
          for (int64_t tw = win.lo[2]; tw < win.hi[2]; ++tw) sum += load(row[tw * ax[2].dilation]);
        }
      }
      int64_t count = 1;
      for (size_t i = 0; i < kMaxSpatial; ++i)
        count *= count_include_pad_ ? ax[i].padded_taps(win.start[i]) : win.hi[i] - win.lo[i];
      y[o] = store<T>(count > 0 ? sum / (Acc<T>)count : Acc<T>(0));
    });
  }

  WindowAttrs attrs_;
  bool count_include_pad_ = false;
};

// GlobalAveragePool / GlobalMaxPool: one value per (image, channel) plane.
template <bool kMax>
class GlobalPool : public KernelBase {
 public:
  explicit GlobalPool(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, kMax ? "GlobalMaxPool" : "GlobalAveragePool", &x));
    const Shape& xs = x->shape();
    if (xs.size() < 3) HS_FAIL(kShape, "global pooling input ", xs, " needs batch, channels and spatial axes");
    Shape ys(xs.size(), 1);
    ys[0] = xs[0];
    ys[1] = xs[1];
    const int64_t planes = xs[0] * xs[1];
    int64_t plane_size = 1;
    for (size_t i = 2; i < xs.size(); ++i) plane_size *= xs[i];
    // No planes (an empty batch) is an empty output; a plane of no elements has no mean or max.
    if (planes > 0 && plane_size == 0) HS_FAIL(kShape, "global pooling over an empty plane, input ", xs);
    Tensor* y = ctx.output(0, x->dtype(), ys);
    return dispatch(x->dtype(), kFloats, kMax ? "GlobalMaxPool" : "GlobalAveragePool", [&](auto tag) -> Status {
      using T = decltype(tag);
      const T* xd = x->data<T>();
      T* yd = y->data<T>();
      const int64_t grain = std::max<int64_t>(1, (1 << 15) / plane_size);
      ctx.pool().parallel_for(planes, grain, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) yd[p] = store<T>(reduce_plane<T>(xd + p * plane_size, plane_size));
      });
      return Status::ok();
    });
  }

 private:
  template <typename T>
  static Acc<T> reduce_plane(const T* v, int64_t n) {
    // Eight partial results so the loop vectorises without reassociating a single sum.
    Acc<T> part[8];
    for (Acc<T>& a : part) a = kMax ? load(v[0]) : Acc<T>(0);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) part[j] = kMax ? std::max(part[j], load(v[i + j])) : part[j] + load(v[i + j]);
    Acc<T> r = part[0];
    for (int j = 1; j < 8; ++j) r = kMax ? std::max(r, part[j]) : r + part[j];
    for (; i < n; ++i) r = kMax ? std::max(r, load(v[i])) : r + load(v[i]);
    return kMax ? r : r / (Acc<T>)n;
  }
};

using GlobalAveragePool = GlobalPool<false>;
using GlobalMaxPool = GlobalPool<true>;

}  // namespace

HS_REGISTER_KERNEL("", "MaxPool", MaxPool);
HS_REGISTER_KERNEL("", "AveragePool", AveragePool);
HS_REGISTER_KERNEL("", "GlobalAveragePool", GlobalAveragePool);
HS_REGISTER_KERNEL("", "GlobalMaxPool", GlobalMaxPool);

}  // namespace hs::cpu
