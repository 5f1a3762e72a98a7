// GridSample (opsets 16 and 20, 2-D): Y[n, c, h, w] = X[n, c] sampled at grid[n, h, w] = (x, y)
// in [-1, 1] (the corners' pixel centres with align_corners, else the image's outer edges), with
// mode bilinear / nearest / bicubic (opset 20: linear / nearest / cubic) and padding_mode zeros
// (outside reads 0), border (coordinates clamped) or reflection (reflected at the edges), as the
// ONNX reference computes it: nearest rounds half to even, bicubic uses a = -0.75 over 4 x 4 taps
// (whose indices, not the coordinate, are clamped or reflected, as in PyTorch and onnxruntime).
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cpu/axis_layout.h"

namespace hs::cpu {
namespace {

enum class SampleMode { kLinear, kNearest, kCubic };
enum class PaddingMode { kZeros, kBorder, kReflection };

// x reflected into [lo, hi] as often as it takes.
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  // Whether d spans an even number of whole ranges (in double: d / range may pass int64's range).
  auto even = [&](double d) { return std::fmod(std::floor(d / range), 2.0) == 0; };
  if (x < lo) {
    const double d = lo - x, r = std::fmod(d, range);
    return even(d) ? lo + r : hi - r;
  }
  if (x > hi) {
    const double d = x - hi, r = std::fmod(d, range);
    return even(d) ? hi - r : lo + r;
  }
  return x;
}

void cubic_weights(double t, double w[4]) {
  constexpr double a = -0.75;
  auto near = [&](double d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };            // |d| <= 1
  auto far = [&](double d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };      // 1 < |d| < 2
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

class GridSample final : public KernelBase {
 public:
  explicit GridSample(const KernelInfo& info) : align_corners_(info.node.attr_int("align_corners", 0) != 0) {
    const std::string mode = info.node.attr_string("mode", info.opset >= 20 ? "linear" : "bilinear");
    const std::string padding = info.node.attr_string("padding_mode", "zeros");
    if (mode == "bilinear" || mode == "linear") mode_ = SampleMode::kLinear;
    else if (mode == "nearest") mode_ = SampleMode::kNearest;
    else if (mode == "bicubic" || mode == "cubic") mode_ = SampleMode::kCubic;
    else init_status = Status(StatusCode::kUnsupportedOp, str_cat("GridSample: mode '", mode, "' is not supported"));
    if (padding == "zeros") padding_ = PaddingMode::kZeros;
    else if (padding == "border") padding_ = PaddingMode::kBorder;
    else if (padding == "reflection") padding_ = PaddingMode::kReflection;
    else init_status = Status(StatusCode::kUnsupportedOp, str_cat("GridSample: padding_mode '", padding, "' is not supported"));
  }

  Status compute(KernelContext& ctx) const override {
    const char* op = "GridSample";
    const Tensor *x, *grid;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &grid));
    if (x->rank() != 4 || grid->rank() != 4 || grid->dim(0) != x->dim(0) || grid->dim(3) != 2)
      HS_FAIL(kShape, op, " takes X [N, C, H, W] and grid [N, H_out, W_out, 2], got ", x->shape(), " and ", grid->shape());
    const int64_t batch = x->dim(0), channels = x->dim(1), h = x->dim(2), w = x->dim(3);
    const int64_t oh = grid->dim(1), ow = grid->dim(2);
    return dispatch(x->dtype(), kFloats, op, [&](auto tag) -> Status {
      using T = decltype(tag);
      const std::vector<double> xf = x->to_double_vector(), gf = grid->to_double_vector();
      T* y = ctx.output(0, x->dtype(), {batch, channels, oh, ow})->data<T>();
      ctx.pool().parallel_for(batch * channels, grain_for(oh * ow * 16), [&](int64_t begin, int64_t end) {
        for (int64_t nc = begin; nc < end; ++nc) {
          const double* plane = xf.data() + nc * h * w;
          const double* g = gf.data() + (nc / channels) * oh * ow * 2;
          for (int64_t p = 0; p < oh * ow; ++p) {
            const double v = sample(plane, h, w, g[2 * p], g[2 * p + 1]);
            if constexpr (is_half<T>::value) y[nc * oh * ow + p] = from_float<T>((float)v);
            else y[nc * oh * ow + p] = (T)v;
          }
        }
      });
      return Status::ok();
    });
  }

 private:
  // A grid coordinate in [-1, 1] as a pixel coordinate.
  double unnormalize(double g, int64_t len) const {
    return align_corners_ ? (g + 1) / 2 * (double)(len - 1) : ((g + 1) * (double)len - 1) / 2;
  }

  // Padding applied to a coordinate: border clamps, reflection reflects; zeros leaves it.
  double pad_coordinate(double c, int64_t len) const {
    if (padding_ == PaddingMode::kBorder) return std::min(std::max(c, 0.0), (double)(len - 1));
    if (padding_ == PaddingMode::kReflection)
      return align_corners_ ? reflect(c, 0, (double)(len - 1)) : reflect(c, -0.5, (double)len - 0.5);
    return c;
  }

  // The pixel at integer (row, col), padding applied to out-of-range indices.
  double pixel(const double* plane, int64_t h, int64_t w, int64_t row, int64_t col) const {
    if (padding_ == PaddingMode::kZeros) {
      if (row < 0 || row >= h || col < 0 || col >= w) return 0;
    } else {
      row = (int64_t)pad_coordinate((double)row, h);
      col = (int64_t)pad_coordinate((double)col, w);
      row = std::min(std::max<int64_t>(row, 0), h - 1);
      col = std::min(std::max<int64_t>(col, 0), w - 1);
    }
    return plane[row * w + col];
  }

  double sample(const double* plane, int64_t h, int64_t w, double gx, double gy) const {
    // Bicubic pads each tap's index rather than the coordinate, as PyTorch and onnxruntime do.
    const bool per_tap = mode_ == SampleMode::kCubic;
    // Coordinates this far out read padding whatever their value; the bound keeps the integer
    // conversions below defined.
    const double ux = std::clamp(unnormalize(gx, w), -1e15, 1e15), uy = std::clamp(unnormalize(gy, h), -1e15, 1e15);
    const double cx = per_tap ? ux : pad_coordinate(ux, w), cy = per_tap ? uy : pad_coordinate(uy, h);
    if (std::isnan(cx) || std::isnan(cy)) return std::nan("");
    if (mode_ == SampleMode::kNearest)
      return pixel(plane, h, w, (int64_t)std::nearbyint(cy), (int64_t)std::nearbyint(cx));
    const int64_t x0 = (int64_t)std::floor(cx), y0 = (int64_t)std::floor(cy);
    const double tx = cx - (double)x0, ty = cy - (double)y0;
    if (mode_ == SampleMode::kLinear)
      return (1 - ty) * ((1 - tx) * pixel(plane, h, w, y0, x0) + tx * pixel(plane, h, w, y0, x0 + 1)) +
             ty * ((1 - tx) * pixel(plane, h, w, y0 + 1, x0) + tx * pixel(plane, h, w, y0 + 1, x0 + 1));
    double wx[4], wy[4];
    cubic_weights(tx, wx);
    cubic_weights(ty, wy);
    double sum = 0;
    for (int i = 0; i < 4; ++i) {
      double row = 0;
      for (int j = 0; j < 4; ++j) row += wx[j] * pixel(plane, h, w, y0 - 1 + i, x0 - 1 + j);
      sum += wy[i] * row;
    }
    return sum;
  }

  bool align_corners_;
  SampleMode mode_ = SampleMode::kLinear;
  PaddingMode padding_ = PaddingMode::kZeros;
};

}  // namespace

HS_REGISTER_KERNEL("", "GridSample", GridSample);

}  // namespace hs::cpu
