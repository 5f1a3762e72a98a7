// RoiAlign (opsets 10 and 16): for each region [x1, y1, x2, y2] (scaled by spatial_scale) of
// image batch_indices[r], an output_height x output_width grid of bins, each the average (mode
// avg) of sampling_ratio^2 bilinear samples (adaptive: ceil(bin size) per axis when 0). Mode max
// takes, as onnxruntime does, the largest weighted corner value over the samples. Coordinates
// shift by half a pixel with coordinate_transformation_mode half_pixel (opset 16's default);
// output_half_pixel (opset 10's behaviour) also makes regions at least one pixel wide.
#include <cmath>
#include <string>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

constexpr int64_t kMaxGrid = 1 << 12;  // samples per bin and axis

class RoiAlign final : public KernelBase {
 public:
  explicit RoiAlign(const KernelInfo& info)
      : out_h_(info.node.attr_int("output_height", 1)), out_w_(info.node.attr_int("output_width", 1)),
        sampling_(info.node.attr_int("sampling_ratio", 0)), scale_(info.node.attr_float("spatial_scale", 1.f)) {
    const std::string mode = info.node.attr_string("mode", "avg");
    const std::string coord = info.node.attr_string("coordinate_transformation_mode", info.opset >= 16 ? "half_pixel" : "output_half_pixel");
    max_ = mode == "max";
    half_pixel_ = coord == "half_pixel";
    if (mode != "avg" && mode != "max")
      init_status = Status(StatusCode::kUnsupportedOp, str_cat("RoiAlign: mode '", mode, "' is not supported"));
    else if (coord != "half_pixel" && coord != "output_half_pixel")
      init_status = Status(StatusCode::kUnsupportedOp, str_cat("RoiAlign: coordinate_transformation_mode '", coord, "' is not supported"));
    else if (out_h_ < 1 || out_w_ < 1 || sampling_ < 0 || sampling_ > kMaxGrid)
      init_status = Status(StatusCode::kInvalidModel, str_cat("RoiAlign: output sizes must be >= 1 and sampling_ratio in [0, ", kMaxGrid, "]"));
  }

  Status compute(KernelContext& ctx) const override {
    const char* op = "RoiAlign";
    const Tensor *x, *rois, *indices_t;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &rois));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, op, &indices_t));
    if (x->rank() != 4 || rois->rank() != 2 || rois->dim(1) != 4)
      HS_FAIL(kShape, op, " takes X [N, C, H, W] and rois [R, 4], got ", x->shape(), " and ", rois->shape());
    std::vector<int64_t> indices;
    HS_RETURN_IF_ERROR(read_int_list(*indices_t, op, "batch_indices", &indices));
    const int64_t count = rois->dim(0), channels = x->dim(1), h = x->dim(2), w = x->dim(3);
    if ((int64_t)indices.size() != count) HS_FAIL(kShape, op, ": ", indices.size(), " batch indices for ", count, " rois");
    for (int64_t i : indices)
      if (i < 0 || i >= x->dim(0)) HS_FAIL(kInvalidArgument, op, ": batch index ", i, " is outside [0, ", x->dim(0), ")");
    return dispatch(x->dtype(), kFloats, op, [&](auto tag) -> Status {
      using T = decltype(tag);
      const std::vector<double> xf = x->to_double_vector(), rf = rois->to_double_vector();
      T* y = ctx.output(0, x->dtype(), {count, channels, out_h_, out_w_})->data<T>();
      ctx.pool().parallel_for(count * channels, grain_for(out_h_ * out_w_ * 16), [&](int64_t begin, int64_t end) {
        for (int64_t rc = begin; rc < end; ++rc) {
          const int64_t r = rc / channels, c = rc % channels;
          const double* plane = xf.data() + (indices[(size_t)r] * channels + c) * h * w;
          T* out = y + rc * out_h_ * out_w_;
          pool_region(plane, h, w, rf.data() + r * 4, [&](int64_t bin, double v) {
            if constexpr (is_half<T>::value) out[bin] = from_float<T>((float)v);
            else out[bin] = (T)v;
          });
        }
      });
      return Status::ok();
    });
  }

 private:
  // emit(bin, value) for every bin of one region of one channel plane.
  template <typename Emit>
  void pool_region(const double* plane, int64_t h, int64_t w, const double* roi, Emit&& emit) const {
    const double offset = half_pixel_ ? 0.5 : 0.0;
    const double x0 = roi[0] * scale_ - offset, y0 = roi[1] * scale_ - offset;
    double rw = roi[2] * scale_ - offset - x0, rh = roi[3] * scale_ - offset - y0;
    if (!half_pixel_) rw = std::max(rw, 1.0), rh = std::max(rh, 1.0);
    const double bin_h = rh / (double)out_h_, bin_w = rw / (double)out_w_;
    // Adaptive grids follow the region's size; a bound keeps a hostile region from running for hours.
    const double cap = (double)kMaxGrid;
    const int64_t grid_h = sampling_ > 0 ? sampling_ : (int64_t)std::min(cap, std::ceil(rh / (double)out_h_));
    const int64_t grid_w = sampling_ > 0 ? sampling_ : (int64_t)std::min(cap, std::ceil(rw / (double)out_w_));
    const double samples = (double)std::max<int64_t>(grid_h * grid_w, 1);
    for (int64_t ph = 0; ph < out_h_; ++ph)
      for (int64_t pw = 0; pw < out_w_; ++pw) {
        double acc = 0;
        bool first = true;
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          const double sy = y0 + (double)ph * bin_h + ((double)iy + 0.5) * bin_h / (double)grid_h;
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            const double sx = x0 + (double)pw * bin_w + ((double)ix + 0.5) * bin_w / (double)grid_w;
            const double v = sample(plane, h, w, sy, sx);
            acc = max_ ? (first ? v : std::max(acc, v)) : acc + v;
            first = false;
          }
        }
        emit(ph * out_w_ + pw, max_ ? acc : acc / samples);
      }
  }

  // Bilinear sample at (y, x): 0 outside [-1, size]; avg sums the weighted corners, max (as
  // onnxruntime) takes the largest weighted corner.
  double sample(const double* plane, int64_t h, int64_t w, double y, double x) const {
    if (y < -1.0 || y > (double)h || x < -1.0 || x > (double)w) return 0;
    y = std::max(y, 0.0);
    x = std::max(x, 0.0);
    int64_t y_lo = (int64_t)y, x_lo = (int64_t)x, y_hi, x_hi;
    if (y_lo >= h - 1) y_hi = y_lo = h - 1, y = (double)y_lo;
    else y_hi = y_lo + 1;
    if (x_lo >= w - 1) x_hi = x_lo = w - 1, x = (double)x_lo;
    else x_hi = x_lo + 1;
    const double ly = y - (double)y_lo, lx = x - (double)x_lo, hy = 1 - ly, hx = 1 - lx;
    const double a = hy * hx * plane[y_lo * w + x_lo], b = hy * lx * plane[y_lo * w + x_hi];
    const double c = ly * hx * plane[y_hi * w + x_lo], d = ly * lx * plane[y_hi * w + x_hi];
    return max_ ? std::max(std::max(a, b), std::max(c, d)) : a + b + c + d;
  }

  int64_t out_h_, out_w_, sampling_;
  float scale_;
  bool max_ = false, half_pixel_ = true;
};

}  // namespace

HS_REGISTER_KERNEL("", "RoiAlign", RoiAlign);

}  // namespace hs::cpu
