// Conv and hs:FusedConv (Y = act(conv(X, W) + B + Z)), NCHW, any number of spatial axes.
//
// Per image and group, a convolution is the GEMM  Y[M/g, pixels] = W[M/g, C/g * kernel] x col,
// where col[C/g * kernel, pixels] holds the input patch of every output pixel (im2col). The
// weights are packed once (at build time when they are an initializer) as the GEMM's A operand.
//   - 1-D and 2-D: col is never built; the GEMM reads the padded input in place
//     (conv_implicit_gemm.cpp); on AVX2 hosts, 2-D kernels larger than 1x1 with constant weights
//     are computed directly instead (conv_direct.cpp, weights packed in its own layout);
//   - depthwise 2-D (one input channel per group): direct, see conv_depthwise.cpp;
//   - 3-D and more: col is materialised, then one GEMM.
// Bias and activation run in the GEMM epilogue; a residual Z is accumulated by the GEMM.
// float16/bfloat16/float64 are computed in float32.
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/conv_depthwise.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_geometry.h"
#include "kernels/cpu/conv_implicit_gemm.h"
#include "kernels/cpu/dense_dtype.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {
namespace {

// col[C * kernel, pixels] for any number of spatial axes (the slow general path).
void im2col_nd(const float* x, int64_t channels, const Shape& in, const WindowGeometry& g, float* col) {
  const size_t rank = in.size();
  const int64_t kernel_size = shape_numel(g.kernel), pixels = shape_numel(g.out), in_size = shape_numel(in);
  std::vector<int64_t> kidx(rank), oidx(rank);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t kk = 0; kk < kernel_size; ++kk) {
      for (int64_t r = (int64_t)rank - 1, rem = kk; r >= 0; --r) kidx[r] = rem % g.kernel[r], rem /= g.kernel[r];
      float* out = col + (c * kernel_size + kk) * pixels;
      for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t r = (int64_t)rank - 1, rem = p; r >= 0; --r) oidx[r] = rem % g.out[r], rem /= g.out[r];
        int64_t offset = 0;
        bool inside = true;
        for (size_t r = 0; r < rank && inside; ++r) {
          const int64_t i = oidx[r] * g.strides[r] - g.pad_begin[r] + kidx[r] * g.dilations[r];
          inside = i >= 0 && i < in[r];
          offset = offset * in[r] + i;
        }
        out[p] = inside ? x[c * in_size + offset] : 0.f;
      }
    }
  }
}

class ConvKernel : public KernelBase {
 public:
  explicit ConvKernel(const KernelInfo& info, bool fused) : fused_(fused) {
    init_status = parse_window_attrs(info.node, &attrs_);
    if (!init_status.is_ok()) return;
    group_ = info.node.attr_int("group", 1);
    if (group_ <= 0) {
      init_status = Status(StatusCode::kInvalidModel, str_cat("attribute group=", group_, " must be positive"));
      return;
    }
    if (fused) init_status = parse_activation(info.node, false, &activation_);
    if (!init_status.is_ok()) return;
    const Tensor* w = info.constant_input(1);
    if (!w || w->dtype() != DType::kFloat32 || w->rank() < 3 || w->dim(0) % group_ != 0) return;
    const bool depthwise = w->dim(1) == 1;  // as run() decides (group == channels)
    const int64_t per_group = w->dim(0) / group_, k = w->numel() / w->dim(0);
    // 1x1 kernels stay with the GEMM, which reads their input in place (bench/kernels/conv_bench.cpp:
    // the direct one is 0.86-1.27x of it there, 1.17-1.38x on 3x3 layers).
    if (w->rank() == 4 && !depthwise && w->dim(2) * w->dim(3) > 1 && conv2d_direct_available() &&
        conv2d_direct_suits(per_group)) {
      for (int64_t gi = 0; gi < group_; ++gi) direct_.push_back(DirectConvWeights::pack(w->data<float>() + gi * per_group * k, per_group, k));
      if (std::none_of(direct_.begin(), direct_.end(), [](const DirectConvWeights& d) { return d.empty(); })) return;
      direct_.clear();
    }
    pack_weights(*w, &packed_);
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *x_in, *w_in;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Conv", &x_in));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Conv", &w_in));
    const Tensor* b_in = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    const Tensor* z_in = fused_ && ctx.num_inputs() > 3 ? ctx.input(3) : nullptr;
    if (!is_float(x_in->dtype())) HS_FAIL(kType, "Conv does not support dtype ", dtype_name(x_in->dtype()));
    for (const Tensor* t : {w_in, b_in, z_in})
      if (t && t->dtype() != x_in->dtype())
        HS_FAIL(kType, "Conv inputs must share X's dtype ", dtype_name(x_in->dtype()), ", got ", dtype_name(t->dtype()));

    const Shape& xs = x_in->shape();
    const Shape& ws = w_in->shape();
    if (xs.size() < 3) HS_FAIL(kShape, "Conv input X ", xs, " needs a batch, a channel and at least one spatial axis");
    if (ws.size() != xs.size()) HS_FAIL(kShape, "Conv weights W ", ws, " must have the rank of X ", xs);
    const int64_t batch = xs[0], channels = xs[1], out_channels = ws[0];
    if (channels != ws[1] * group_ || out_channels % group_ != 0)
      HS_FAIL(kShape, "Conv with group=", group_, ": X ", xs, " and W ", ws, " do not agree on channels");
    const Shape in_spatial(xs.begin() + 2, xs.end());
    const std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    if (!attrs_.kernel_shape.empty() && attrs_.kernel_shape != kernel)
      HS_FAIL(kShape, "Conv kernel_shape ", attrs_.kernel_shape, " does not match W ", ws);
    if (b_in && (b_in->rank() != 1 || b_in->dim(0) != out_channels))
      HS_FAIL(kShape, "Conv bias B ", b_in->shape(), " must be [", out_channels, "]");
    WindowGeometry g;
    HS_RETURN_IF_ERROR(forward_window(attrs_, kernel, in_spatial, &g));
    Shape ys = {batch, out_channels};
    ys.insert(ys.end(), g.out.begin(), g.out.end());
    if (z_in && z_in->shape() != ys) HS_FAIL(kShape, "FusedConv residual Z ", z_in->shape(), " must be ", ys);
    Tensor* y_out = ctx.output(0, x_in->dtype(), ys);
    if (y_out->numel() == 0) return Status::ok();

    auto x = as_float32(*x_in);
    auto w = as_float32(*w_in);
    auto b = b_in ? as_float32(*b_in) : Result<Tensor>(Tensor());
    auto z = z_in ? as_float32(*z_in) : Result<Tensor>(Tensor());
    for (auto* r : {&x, &w, &b, &z}) HS_RETURN_IF_ERROR(r->status());
    Tensor y = y_out->dtype() == DType::kFloat32 ? *y_out : Tensor::empty(DType::kFloat32, ys);
    HS_RETURN_IF_ERROR(run(ctx, x.value(), w.value(), b.value(), z.value(), g, &y));
    return store_from_float32(y, y_out);
  }

 private:
  // Per group, the weights [M/g, C/g * kernel] as the GEMM's packed A.
  void pack_weights(const Tensor& w, std::vector<PackedMatrix>* packed) const {
    const int64_t per_group = w.dim(0) / group_, k = w.numel() / w.dim(0);
    packed->clear();
    for (int64_t gi = 0; gi < group_; ++gi)
      packed->push_back(PackedMatrix::pack_a(false, per_group, k, w.data<float>() + gi * per_group * k, k));
  }

  Status run(KernelContext& ctx, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& z,
             const WindowGeometry& g, Tensor* y) const {
    const Shape& xs = x.shape();
    const int64_t batch = xs[0], channels = xs[1], out_channels = w.dim(0);
    const size_t spatial = xs.size() - 2;
    const Shape in_spatial(xs.begin() + 2, xs.end());
    const float* bias = b.defined() ? b.data<float>() : nullptr;
    const float* residual = z.defined() ? z.data<float>() : nullptr;

    const bool has_h = spatial == 2;  // 1-D runs as 2-D with a height of 1 (unused beyond 2-D)
    const Conv2dShape shape2d{has_h ? xs[2] : 1, xs.back(), has_h ? g.kernel[0] : 1, g.kernel.back(),
                              has_h ? g.strides[0] : 1, g.strides.back(), has_h ? g.dilations[0] : 1,
                              g.dilations.back(), has_h ? g.pad_begin[0] : 0, g.pad_begin.back(),
                              has_h ? g.out[0] : 1, g.out.back()};
    if (spatial == 2 && group_ == channels && w.dim(1) == 1) {
      const DepthwiseConv2d args{x.data<float>(), w.data<float>(), bias, residual, y->data<float>(), batch,
                                 channels, out_channels / channels, shape2d, activation_};
      depthwise_conv2d(args, ctx.pool());
      return Status::ok();
    }

    const int64_t in_size = shape_numel(in_spatial), pixels = shape_numel(g.out);
    const int64_t c_per_group = channels / group_, m_per_group = out_channels / group_;
    const int64_t k_size = c_per_group * shape_numel(g.kernel);
    // direct_ is packed only for constant weights, whose shape the graph fixes.
    const bool direct = spatial == 2 && !direct_.empty() && direct_[0].out_channels() == m_per_group && direct_[0].k() == k_size;
    std::vector<PackedMatrix> packed_now;
    const std::vector<PackedMatrix>* packed = &packed_;
    if (!direct && (packed_.empty() || packed_[0].rows() * group_ != out_channels || packed_[0].cols() * out_channels != w.numel())) {
      pack_weights(w, &packed_now);
      packed = &packed_now;
    }

    auto implicit_conv = [&](int64_t t) {
      const int64_t n = t / group_, gi = t % group_;
      const int64_t y_offset = (n * out_channels + gi * m_per_group) * pixels;
      return ImplicitConv2d{x.data<float>() + (n * channels + gi * c_per_group) * in_size, in_size, c_per_group,
                            shape2d, direct ? nullptr : &(*packed)[gi], m_per_group, bias ? bias + gi * m_per_group : nullptr,
                            residual ? residual + y_offset : nullptr, activation_, y->data<float>() + y_offset,
                            pixels};
    };
    // Task t's convolution (or a band of it) on the calling thread.
    auto run_one = [&](const ImplicitConv2d& conv, int64_t t) {
      if (direct) conv2d_direct(conv, direct_[t % group_]);
      else conv2d_implicit_gemm(conv, nullptr);
    };
    // One GEMM per (image, group), side by side on single threads, when there are enough of them
    // to feed every thread (or they are too small to split). Fewer but large 2-D ones are cut into
    // bands of output rows that run side by side; a 1-D one is split inside its GEMM.
    const int64_t tasks = batch * group_, threads = ctx.pool().parallelism();
    const bool split = tasks < threads && gemm_worth_threading(m_per_group, pixels, k_size);
    // A 1x1 convolution is a plain GEMM over the pixels, which splits itself across threads without
    // cutting its columns into bands (those of a small image would leave the 16-wide tiles part empty).
    const bool pointwise = shape_numel(g.kernel) == 1 && shape2d.stride_h == 1 && shape2d.stride_w == 1;
    if (spatial <= 2 && split && shape2d.out_h >= 2 && !pointwise) {
      const int64_t bands = std::min(shape2d.out_h, (2 * threads + tasks - 1) / tasks);
      ctx.pool().parallel_for(tasks * bands, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const int64_t band = i % bands, rows = shape2d.out_h;
          run_one(conv2d_row_band(implicit_conv(i / bands), band * rows / bands, (band + 1) * rows / bands), i / bands);
        }
      });
      return Status::ok();
    }
    if (spatial <= 2) {
      if (split && direct) {  // one output row: the threads split the output channels instead
        const int64_t panels = conv2d_direct_panels(m_per_group);
        ctx.pool().parallel_for(tasks * panels, 1, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i)
            conv2d_direct(implicit_conv(i / panels), direct_[i / panels % group_], i % panels, i % panels + 1);
        });
      } else if (split) {
        for (int64_t t = 0; t < tasks; ++t) conv2d_implicit_gemm(implicit_conv(t), &ctx.pool());
      } else {
        ctx.pool().parallel_for(tasks, 1, [&](int64_t begin, int64_t end) {
          for (int64_t t = begin; t < end; ++t) run_one(implicit_conv(t), t);
        });
      }
      return Status::ok();
    }
    // 3-D and more: im2col, then one GEMM split across threads, per (image, group).
    std::vector<float> col((size_t)(k_size * pixels));
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t n = t / group_, gi = t % group_;
      const float* x_group = x.data<float>() + (n * channels + gi * c_per_group) * in_size;
      const int64_t y_offset = (n * out_channels + gi * m_per_group) * pixels;
      const float* group_residual = residual ? residual + y_offset : nullptr;
      float* y_group = y->data<float>() + y_offset;
      if (group_residual) std::memcpy(y_group, group_residual, sizeof(float) * (size_t)(m_per_group * pixels));
      im2col_nd(x_group, c_per_group, in_spatial, g, col.data());
      GemmOperand a;
      a.packed = &(*packed)[gi];
      GemmOperand b{col.data(), pixels, false};
      GemmEpilogue ep;
      ep.row_bias = bias ? bias + gi * m_per_group : nullptr;
      ep.activation = activation_;
      sgemm_ex(m_per_group, pixels, k_size, 1.f, a, b, group_residual ? 1.f : 0.f, y_group, pixels, ep, &ctx.pool());
    }
    return Status::ok();
  }

  bool fused_;
  WindowAttrs attrs_;
  int64_t group_ = 1;
  Activation activation_;
  std::vector<PackedMatrix> packed_;  // weights packed at build time, when constant
  std::vector<DirectConvWeights> direct_;  // or, per group, for conv2d_direct (then packed_ is empty)
};

struct Conv : ConvKernel {
  explicit Conv(const KernelInfo& info) : ConvKernel(info, false) {}
};
struct FusedConv : ConvKernel {
  explicit FusedConv(const KernelInfo& info) : ConvKernel(info, true) {}
};

}  // namespace

HS_REGISTER_KERNEL("", "Conv", Conv);
HS_REGISTER_KERNEL("hs", "FusedConv", FusedConv);

}  // namespace hs::cpu
