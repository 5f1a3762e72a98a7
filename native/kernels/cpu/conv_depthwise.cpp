// Depthwise 2-D convolution, direct. For each (image, input channel) plane:
//   1. copy the plane into zero-padded phase planes (conv_phase_planes.h), where every kernel tap
//      reads a contiguous run of the input for consecutive outputs, whatever the stride;
//   2. compute the outputs over the flat index q = oh * row_len + ow, four vectors of W outputs at
//      a time (four independent FMA chains hide the FMA latency): start from the bias, add
//      weight * input for every tap; full-vector stores into a scratch row;
//   3. copy the valid out_w columns of each row to y (adding the residual), then run the
//      activation over the finished plane while it is in cache.
// Written once with GCC vector extensions and compiled per instruction set (SSE2, AVX2,
// AVX-512) with target attributes, chosen at run time. Small planes on AVX2 hosts go 8 channels per
// vector instead (conv_depthwise_blocked.cpp).
#include "kernels/cpu/conv_depthwise.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/conv_depthwise_blocked.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {
namespace {

constexpr int64_t kChains = 4;  // output vectors computed together

struct Scratch {
  std::vector<float> planes, out;
};

template <int W>
struct DepthwiseImpl {
  typedef float F __attribute__((vector_size(4 * W)));

  static inline __attribute__((always_inline)) void plane(const DepthwiseConv2d& a, const PhasePlanes& layout,
                                                          int64_t image, int64_t channel, Scratch& scratch) {
    const Conv2dShape& s = a.shape;
    const int64_t block = kChains * W;
    const int64_t n = layout.flat_outputs();
    const int64_t n_blocks = (n + block - 1) / block;
    // The last block reads up to `block` floats past the planes' end: keep them allocated.
    scratch.planes.resize((size_t)(layout.channel_size() + block));
    scratch.out.resize((size_t)(n_blocks * block));
    float* planes = scratch.planes.data();
    float* out = scratch.out.data();
    layout.build_channel(a.x + (image * a.channels + channel) * s.in_h * s.in_w, planes);
    const std::vector<int64_t>& taps = layout.tap_offsets();
    const int64_t tap_count = (int64_t)taps.size();
    const int64_t pixels = s.out_h * s.out_w;

    for (int64_t m = 0; m < a.multiplier; ++m) {
      const int64_t oc = channel * a.multiplier + m;
      const float* w = a.w + oc * tap_count;
      const float bias = a.bias ? a.bias[oc] : 0.f;
      for (int64_t q = 0; q < n; q += block) {
        F acc[kChains];
        for (F& v : acc) v = F{} + bias;
        for (int64_t t = 0; t < tap_count; ++t) {
          const float* in = planes + taps[t] + q;
          const float wt = w[t];
#pragma GCC unroll 4
          for (int64_t u = 0; u < kChains; ++u) {
            F v;
            std::memcpy(&v, in + u * W, sizeof v);
            acc[u] += v * wt;
          }
        }
        std::memcpy(out + q, acc, sizeof acc);
      }
      const int64_t y_offset = (image * a.channels * a.multiplier + oc) * pixels;
      float* y = a.y + y_offset;
      const float* z = a.residual ? a.residual + y_offset : nullptr;
      for (int64_t oh = 0; oh < s.out_h; ++oh) {
        const float* row = out + oh * layout.row_len();
        float* yrow = y + oh * s.out_w;
        if (z) {
          const float* zrow = z + oh * s.out_w;
          for (int64_t ow = 0; ow < s.out_w; ++ow) yrow[ow] = row[ow] + zrow[ow];
        } else {
          std::memcpy(yrow, row, sizeof(float) * (size_t)s.out_w);
        }
      }
      ActivationMath<W>::apply_all(a.activation, y, pixels);
    }
  }

  static inline __attribute__((always_inline)) void run(const DepthwiseConv2d& a, const PhasePlanes& layout,
                                                        int64_t begin, int64_t end) {
    thread_local Scratch scratch;
    for (int64_t p = begin; p < end; ++p) plane(a, layout, p / a.channels, p % a.channels, scratch);
  }
};

using RunFn = void (*)(const DepthwiseConv2d&, const PhasePlanes&, int64_t, int64_t);

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void run_avx512(const DepthwiseConv2d& a, const PhasePlanes& layout,
                                                   int64_t begin, int64_t end) {
  DepthwiseImpl<16>::run(a, layout, begin, end);
}
__attribute__((target("avx2,fma"))) void run_avx2(const DepthwiseConv2d& a, const PhasePlanes& layout, int64_t begin,
                                                  int64_t end) {
  DepthwiseImpl<8>::run(a, layout, begin, end);
}
#endif
void run_generic(const DepthwiseConv2d& a, const PhasePlanes& layout, int64_t begin, int64_t end) {
  DepthwiseImpl<4>::run(a, layout, begin, end);
}

}  // namespace

void depthwise_conv2d(const DepthwiseConv2d& args, ThreadPool& pool) {
  const Conv2dShape& s = args.shape;
  if (depthwise_blocked_suits(args)) {
    const int64_t blocks = (args.channels + 7) / 8, tasks = args.batch * blocks;
    const int64_t grain = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(1, 8 * s.out_h * s.out_w * s.kernel_h * s.kernel_w));
    pool.parallel_for(tasks, grain, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) depthwise_blocked(args, t / blocks, t % blocks);
    });
    return;
  }
  RunFn run = run_generic;
#if defined(__x86_64__)
  if (simd_level() == SimdLevel::kAvx512) run = run_avx512;
  else if (simd_level() == SimdLevel::kAvx2) run = run_avx2;
#endif
  const PhasePlanes layout(args.shape);
  const int64_t planes = args.batch * args.channels;
  const int64_t work_per_plane = std::max<int64_t>(1, args.multiplier * s.out_h * s.out_w * s.kernel_h * s.kernel_w);
  const int64_t grain = std::max<int64_t>(1, (1 << 16) / work_per_plane);
  pool.parallel_for(planes, grain, [&](int64_t begin, int64_t end) { run(args, layout, begin, end); });
}

}  // namespace hs::cpu
