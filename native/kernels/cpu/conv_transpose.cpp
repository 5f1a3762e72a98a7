// ConvTranspose, NCHW, 1 to 3 spatial axes (lower ranks run as 3-D with unit axes in front).
//
// Per image and group: col = W_g^T x X_g, a GEMM giving, for every output channel and kernel tap,
// that tap's contribution at every input pixel ([M/g * kernel, in_pixels]); then col2im adds each
// contribution at output position  in * stride - pad_begin + tap * dilation  (when it falls
// inside the output) into Y, which starts as the bias. Where the taps tile the output exactly
// (kernel = stride, no dilation or pads: a 2x2 stride-2 upsampler), every output element takes
// one tap, so its value is written once, bias included. W_g^T is packed once as the GEMM's A
// (at build time when W is an initializer). float16/bfloat16/float64 are computed in float32.
// Attributes and geometry: conv_transpose_geometry.h.
#include <cstring>
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/conv_transpose_geometry.h"
#include "kernels/cpu/dense_dtype.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {
namespace {

class ConvTranspose : public KernelBase {
 public:
  explicit ConvTranspose(const KernelInfo& info) {
    init_status = parse_transpose_attrs(info.node, &attrs_);
    const Tensor* w = info.constant_input(1);
    if (init_status.is_ok() && w && w->dtype() == DType::kFloat32 && w->rank() >= 3 && w->dim(0) % attrs_.group == 0)
      pack_weights(*w, &packed_);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *x_in, *w_in;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "ConvTranspose", &x_in));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "ConvTranspose", &w_in));
    const Tensor* b_in = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    if (!is_float(x_in->dtype())) HS_FAIL(kType, "ConvTranspose does not support dtype ", dtype_name(x_in->dtype()));
    if (w_in->dtype() != x_in->dtype() || (b_in && b_in->dtype() != x_in->dtype()))
      HS_FAIL(kType, "ConvTranspose inputs must share X's dtype ", dtype_name(x_in->dtype()));
    const Shape b_shape = b_in ? b_in->shape() : Shape{};
    TransposeAxis axes[kMaxTransposeSpatial];
    Shape ys;
    HS_RETURN_IF_ERROR(transpose_window(attrs_, x_in->shape(), w_in->shape(), b_in ? &b_shape : nullptr, axes, &ys));
    Tensor* y_out = ctx.output(0, x_in->dtype(), ys);
    if (y_out->numel() == 0) return Status::ok();

    auto x = as_float32(*x_in);
    auto w = as_float32(*w_in);
    auto b = b_in ? as_float32(*b_in) : Result<Tensor>(Tensor());
    for (auto* r : {&x, &w, &b}) HS_RETURN_IF_ERROR(r->status());
    Tensor y = y_out->dtype() == DType::kFloat32 ? *y_out : Tensor::empty(DType::kFloat32, ys);
    run(ctx, x.value(), w.value(), b.value(), axes, &y);
    return store_from_float32(y, y_out);
  }

 private:
  // Per group, W_g^T ([M/g * kernel, C/g]) as the GEMM's packed A.
  void pack_weights(const Tensor& w, std::vector<PackedMatrix>* packed) const {
    const int64_t c_per_group = w.dim(0) / attrs_.group, rows = w.numel() / w.dim(0);
    packed->clear();
    for (int64_t gi = 0; gi < attrs_.group; ++gi)
      packed->push_back(
          PackedMatrix::pack_a(true, rows, c_per_group, w.data<float>() + gi * c_per_group * rows, rows));
  }

  void run(KernelContext& ctx, const Tensor& x, const Tensor& w, const Tensor& b, const TransposeAxis* ax,
           Tensor* y) const {
    const int64_t batch = x.dim(0), channels = x.dim(1), m_per_group = w.dim(1), out_channels = m_per_group * attrs_.group;
    const int64_t c_per_group = channels / attrs_.group;
    const int64_t kernel = ax[0].kernel * ax[1].kernel * ax[2].kernel;
    const int64_t in_pixels = ax[0].in * ax[1].in * ax[2].in, out_pixels = ax[0].out * ax[1].out * ax[2].out;
    const int64_t rows = m_per_group * kernel;
    std::vector<PackedMatrix> packed_now;
    const std::vector<PackedMatrix>* packed = &packed_;
    if (packed_.empty() || packed_[0].rows() != rows || packed_[0].cols() != c_per_group) {
      pack_weights(w, &packed_now);
      packed = &packed_now;
    }
    thread_local std::vector<float> col;  // kept between runs: no page faults on the hot path
    col.resize((size_t)(rows * in_pixels));
    float* const col_data = col.data();  // pool workers must not name `col`: theirs is another thread's
    float* yd = y->data<float>();
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t gi = 0; gi < attrs_.group; ++gi) {
        GemmOperand a;
        a.packed = &(*packed)[gi];
        GemmOperand bop{x.data<float>() + (n * channels + gi * c_per_group) * in_pixels, in_pixels, false};
        sgemm_ex(rows, in_pixels, c_per_group, 1.f, a, bop, 0.f, col_data, in_pixels, GemmEpilogue{}, &ctx.pool());
        float* y_group = yd + (n * out_channels + gi * m_per_group) * out_pixels;
        const float* bias = b.defined() ? b.data<float>() + gi * m_per_group : nullptr;
        ctx.pool().parallel_for(m_per_group, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, kernel * in_pixels)),
                                [&](int64_t begin, int64_t end) {
                                  for (int64_t m = begin; m < end; ++m)
                                    col2im(col_data + m * kernel * in_pixels, ax, bias ? bias[m] : 0.f,
                                           y_group + m * out_pixels);
                                });
      }
    }
  }

  static bool taps_tile_output(const TransposeAxis* ax) {
    for (int i = 0; i < 3; ++i)
      if (ax[i].kernel != ax[i].stride || ax[i].dilation != 1 || ax[i].pad != 0 || ax[i].out != ax[i].in * ax[i].stride)
        return false;
    return true;
  }

  // out[pos(in, tap)] = col[tap][in] + bias where the taps tile the output (taps_tile_output).
  static void place_tiles(const float* col, const TransposeAxis* ax, float bias, float* out) {
    const int64_t in_pixels = ax[0].in * ax[1].in * ax[2].in, in_w = ax[2].in, kw_n = ax[2].kernel;
    for (int64_t kd = 0; kd < ax[0].kernel; ++kd)
      for (int64_t kh = 0; kh < ax[1].kernel; ++kh) {
        const float* taps = col + (kd * ax[1].kernel + kh) * kw_n * in_pixels;  // tap (kd, kh, 0)
        for (int64_t id = 0; id < ax[0].in; ++id)
          for (int64_t ih = 0; ih < ax[1].in; ++ih) {
            const float* src = taps + (id * ax[1].in + ih) * in_w;
            float* dst = out + ((id * ax[0].stride + kd) * ax[1].out + ih * ax[1].stride + kh) * ax[2].out;
            if (kw_n == 2) {  // the common upsampler: two rows interleaved (vectorised by the compiler)
              const float* src1 = src + in_pixels;
              for (int64_t iw = 0; iw < in_w; ++iw) {
                dst[2 * iw] = src[iw] + bias;
                dst[2 * iw + 1] = src1[iw] + bias;
              }
            } else {
              for (int64_t iw = 0; iw < in_w; ++iw)
                for (int64_t kw = 0; kw < kw_n; ++kw) dst[iw * kw_n + kw] = src[kw * in_pixels + iw] + bias;
            }
          }
      }
  }

  // out = bias, then out[pos(in, tap)] += col[tap][in] for every tap and input pixel.
  static void col2im(const float* col, const TransposeAxis* ax, float bias, float* out) {
    if (taps_tile_output(ax)) return place_tiles(col, ax, bias, out);
    const int64_t out_pixels = ax[0].out * ax[1].out * ax[2].out, in_pixels = ax[0].in * ax[1].in * ax[2].in;
    for (int64_t i = 0; i < out_pixels; ++i) out[i] = bias;
    for (int64_t kd = 0; kd < ax[0].kernel; ++kd)
      for (int64_t kh = 0; kh < ax[1].kernel; ++kh)
        for (int64_t kw = 0; kw < ax[2].kernel; ++kw, col += in_pixels) {
          for (int64_t id = 0; id < ax[0].in; ++id) {
            const int64_t od = id * ax[0].stride - ax[0].pad + kd * ax[0].dilation;
            if (od < 0 || od >= ax[0].out) continue;
            for (int64_t ih = 0; ih < ax[1].in; ++ih) {
              const int64_t oh = ih * ax[1].stride - ax[1].pad + kh * ax[1].dilation;
              if (oh < 0 || oh >= ax[1].out) continue;
              const float* src = col + (id * ax[1].in + ih) * ax[2].in;
              float* dst = out + (od * ax[1].out + oh) * ax[2].out;
              const int64_t ow0 = kw * ax[2].dilation - ax[2].pad;
              for (int64_t iw = 0; iw < ax[2].in; ++iw) {
                const int64_t ow = iw * ax[2].stride + ow0;
                if (ow >= 0 && ow < ax[2].out) dst[ow] += src[iw];
              }
            }
          }
        }
  }

  TransposeAttrs attrs_;
  std::vector<PackedMatrix> packed_;  // W_g^T packed at build time, when W is a float32 constant
};

}  // namespace

HS_REGISTER_KERNEL("", "ConvTranspose", ConvTranspose);

}  // namespace hs::cpu
