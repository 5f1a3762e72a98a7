// Row kernels for Softmax, LogSoftmax and LayerNormalization (see row_kernels.h).
//
// RowMath<W> works on W floats at a time with GCC vector extensions and the polynomial exp of
// activation.h; every function is always_inline, so the per-ISA entry points below (target
// attributes) compile the whole row into AVX-512, AVX2+FMA or SSE2 code. Tails go through a
// padded vector whose extra lanes are never summed or stored, so they get the same arithmetic.
//   softmax:     max pass; exp(x - max) written and summed; scale by 1/sum.
//   log_softmax: max pass; sum of exp(x - max); y = x - (max + log(sum)).
//   layer_norm:  sum pass (mean); squared-deviation pass (variance); one pass writing the result.
#include "kernels/cpu/row_kernels.h"

#include <cmath>
#include <cstring>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {
namespace {

#define HS_ROW_INLINE static inline __attribute__((always_inline))

template <int W>
struct RowMath {
  using M = ActivationMath<W>;
  using F = typename M::F;

  // Vectors are passed by reference only, never returned, so that the code is ABI-neutral
  // whether it is inlined into SSE2, AVX2 or AVX-512 functions (as in activation.h).
  HS_ROW_INLINE void load(F& v, const float* p) { std::memcpy(&v, p, sizeof v); }
  // The first `count` < W floats of p, the other lanes `fill`.
  HS_ROW_INLINE void load_tail(F& v, const float* p, int64_t count, float fill) {
    v = F{} + fill;
    std::memcpy(&v, p, (size_t)count * sizeof(float));
  }
  HS_ROW_INLINE void store(float* p, const F& v, int64_t count = W) {
    std::memcpy(p, &v, (size_t)count * sizeof(float));
  }
  HS_ROW_INLINE float sum_lanes(const F& v, int64_t count = W) {
    float s = 0.f;
    for (int64_t j = 0; j < count; ++j) s += v[j];
    return s;
  }

  HS_ROW_INLINE float max(const float* x, int64_t n) {
    F best = F{} - INFINITY;
    int64_t i = 0;
    F v;
    for (; i + W <= n; i += W) {
      load(v, x + i);
      best = v > best ? v : best;
    }
    if (i < n) {
      load_tail(v, x + i, n - i, -INFINITY);
      best = v > best ? v : best;
    }
    float m = best[0];
    for (int j = 1; j < W; ++j) m = best[j] > m ? best[j] : m;
    return m;
  }

  // sum(exp(x - shift)); the exponentials are stored into y when it is not null.
  HS_ROW_INLINE float exp_sum(const float* x, float shift, float* y, int64_t n) {
    F acc = {}, v;
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      load(v, x + i);
      v -= shift;
      M::exp(v);
      if (y) store(y + i, v);
      acc += v;
    }
    float sum = sum_lanes(acc);
    if (i < n) {
      load_tail(v, x + i, n - i, shift);
      v -= shift;
      M::exp(v);
      if (y) store(y + i, v, n - i);
      sum += sum_lanes(v, n - i);
    }
    return sum;
  }

  HS_ROW_INLINE void scale(float* y, float factor, int64_t n) {
    int64_t i = 0;
    F v;
    for (; i + W <= n; i += W) {
      load(v, y + i);
      v *= factor;
      store(y + i, v);
    }
    for (; i < n; ++i) y[i] *= factor;
  }

  HS_ROW_INLINE void softmax(const float* x, float* y, int64_t n) {
    const float sum = exp_sum(x, max(x, n), y, n);
    scale(y, 1.f / sum, n);
  }

  HS_ROW_INLINE void log_softmax(const float* x, float* y, int64_t n) {
    const float m = max(x, n);
    const float shift = m + std::log(exp_sum(x, m, nullptr, n));
    int64_t i = 0;
    F v;
    for (; i + W <= n; i += W) {
      load(v, x + i);
      v -= shift;
      store(y + i, v);
    }
    for (; i < n; ++i) y[i] = x[i] - shift;
  }

  HS_ROW_INLINE void exp_inplace(float* x, int64_t n) {
    int64_t i = 0;
    F v;
    for (; i + W <= n; i += W) {
      load(v, x + i);
      M::exp(v);
      store(x + i, v);
    }
    if (i < n) {
      load_tail(v, x + i, n - i, 0.f);
      M::exp(v);
      store(x + i, v, n - i);
    }
  }

  HS_ROW_INLINE void layer_norm(const float* x, const float* gamma, const float* beta, float epsilon, int64_t n,
                                float* y, float* mean_out, float* inv_std_out) {
    F acc = {}, v, w;
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      load(v, x + i);
      acc += v;
    }
    float sum = sum_lanes(acc);
    for (; i < n; ++i) sum += x[i];
    const float mean = sum / (float)n;
    acc = F{};
    for (i = 0; i + W <= n; i += W) {
      load(v, x + i);
      v -= mean;
      acc += v * v;
    }
    float squares = sum_lanes(acc);
    for (; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
    const float inv_std = 1.f / std::sqrt(squares / (float)n + epsilon);
    for (i = 0; i + W <= n; i += W) {
      load(v, x + i);
      load(w, gamma + i);
      v = (v - mean) * inv_std * w;
      if (beta) {
        load(w, beta + i);
        v += w;
      }
      store(y + i, v);
    }
    for (; i < n; ++i) y[i] = (x[i] - mean) * inv_std * gamma[i] + (beta ? beta[i] : 0.f);
    *mean_out = mean;
    *inv_std_out = inv_std;
  }
};

#undef HS_ROW_INLINE

// One set of entry points per instruction set.
#define HS_ROW_KERNELS(SUFFIX, TARGET, W)                                                                     \
  TARGET void softmax_##SUFFIX(const float* x, float* y, int64_t n) { RowMath<W>::softmax(x, y, n); }          \
  TARGET void log_softmax_##SUFFIX(const float* x, float* y, int64_t n) { RowMath<W>::log_softmax(x, y, n); }  \
  TARGET void exp_inplace_##SUFFIX(float* x, int64_t n) { RowMath<W>::exp_inplace(x, n); }                     \
  TARGET void layer_norm_##SUFFIX(const float* x, const float* gamma, const float* beta, float epsilon,        \
                                  int64_t n, float* y, float* mean, float* inv_std) {                          \
    RowMath<W>::layer_norm(x, gamma, beta, epsilon, n, y, mean, inv_std);                                      \
  }                                                                                                           \
  const RowKernels kRowKernels_##SUFFIX = {softmax_##SUFFIX, log_softmax_##SUFFIX, exp_inplace_##SUFFIX,       \
                                           layer_norm_##SUFFIX};

HS_ROW_KERNELS(sse2, , 4)
#if defined(__x86_64__)
HS_ROW_KERNELS(avx2, __attribute__((target("avx2,fma"))), 8)
HS_ROW_KERNELS(avx512, __attribute__((target("avx512f"))), 16)
#endif

#undef HS_ROW_KERNELS

}  // namespace

const RowKernels& row_kernels() {
#if defined(__x86_64__)
  switch (simd_level()) {
    case SimdLevel::kAvx512: return kRowKernels_avx512;
    case SimdLevel::kAvx2: return kRowKernels_avx2;
    case SimdLevel::kGeneric: break;
  }
#endif
  return kRowKernels_sse2;
}

}  // namespace hs::cpu
