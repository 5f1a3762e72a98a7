// LRN (local response normalisation across channels) over X of shape [N, C, spatial...]:
//   y[n,c,s] = x[n,c,s] / (bias + alpha / size * sum_{c' in window(c)} x[n,c',s]^2) ^ beta,
// window(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C).
//
// Algorithm: for each n and each chunk of up to kChunk spatial positions, every output channel
// sums the squares of its window's channel rows element-wise (contiguous, vectorised; recomputed
// per channel rather than slid, so no cancellation creeps in), then scales x. beta = 0.75 (the
// default) uses 1 / (sqrt(t) * sqrt(sqrt(t))), which vectorises, instead of pow. Parallel over
// (n, chunk).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"

namespace hs::cpu {
namespace {

struct LrnParams {
  int64_t size = 1;
  float alpha = 1e-4f, beta = 0.75f, bias = 1.f;
};

template <typename T>
void lrn(const T* x, T* y, int64_t batch, int64_t channels, int64_t spatial, const LrnParams& p, ThreadPool& pool) {
  constexpr int64_t kChunk = 256;
  const int64_t chunk = std::min(spatial, kChunk);
  const int64_t chunks = (spatial + chunk - 1) / chunk;
  const int64_t before = (p.size - 1) / 2, after = p.size - 1 - before;
  using C = AccType<T>;
  const C scale = static_cast<C>(p.alpha) / static_cast<C>(p.size), bias = p.bias, beta = p.beta;
  const bool three_quarters = p.beta == 0.75f;
  pool.parallel_for(batch * chunks, grain_for(channels * chunk * p.size), [&](int64_t begin, int64_t end) {
    C sums[kChunk];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / chunks, first = (task % chunks) * chunk;
      const int64_t len = std::min(chunk, spatial - first);
      const int64_t base = n * channels * spatial + first;
      for (int64_t c = 0; c < channels; ++c) {
        for (int64_t i = 0; i < len; ++i) sums[i] = 0;
        const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(channels - 1, c + after);
        for (int64_t w = lo; w <= hi; ++w) {
          const T* row = x + base + w * spatial;
          for (int64_t i = 0; i < len; ++i) {
            const C v = load_as<C>(row[i]);
            sums[i] += v * v;
          }
        }
        const T* in = x + base + c * spatial;
        T* out = y + base + c * spatial;
        for (int64_t i = 0; i < len; ++i) {
          const C t = bias + scale * sums[i];
          const C denominator = three_quarters ? std::sqrt(t) * std::sqrt(std::sqrt(t)) : std::pow(t, beta);
          out[i] = store_as<T>(load_as<C>(in[i]) / denominator);
        }
      }
    }
  });
}

class LrnKernel final : public KernelBase {
 public:
  explicit LrnKernel(const KernelInfo& info) {
    params_.size = info.node.attr_int("size", 0);
    params_.alpha = info.node.attr_float("alpha", 1e-4f);
    params_.beta = info.node.attr_float("beta", 0.75f);
    params_.bias = info.node.attr_float("bias", 1.f);
    if (params_.size <= 0)
      init_status =
          Status(StatusCode::kInvalidModel, str_cat("LRN: attribute size=", params_.size, " must be positive"));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "LRN", &x));
    if (x->rank() < 2)
      HS_FAIL(kShape, "LRN: input must have rank >= 2 ([N, C, ...]), got shape ", shape_str(x->shape()));
    const int64_t spatial = x->numel() / std::max<int64_t>(1, x->dim(0) * x->dim(1));
    return dispatch(x->dtype(), kFloats, "LRN", [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!kIsFloatType<T>) {
        return dtype_not_supported("LRN", x->dtype());
      } else {
        Tensor* y = ctx.output(0, x->dtype(), x->shape());
        if (y->numel() > 0) lrn(x->data<T>(), y->data<T>(), x->dim(0), x->dim(1), spatial, params_, ctx.pool());
        return Status::ok();
      }
    });
  }

 private:
  LrnParams params_;
};

HS_REGISTER_KERNEL("", "LRN", LrnKernel);

}  // namespace
}  // namespace hs::cpu
