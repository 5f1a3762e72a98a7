// Activation epilogues of the fused operators (hs:FusedConv, hs:FusedMatMul, hs:FusedGemm),
// applied by GEMM and convolution to an output tile while it is still in cache.
//
// The math is written once with GCC vector extensions (ActivationMath<W>, W floats at a time)
// and instantiated per instruction set by the GEMM micro-kernel files (SSE2, AVX2, AVX-512).
// exp uses a round-to-nearest range reduction (x = n ln2 + r, |r| <= ln2/2) and a degree-7
// Taylor polynomial (relative error < 1e-7); tanh uses its Taylor series below |x| = 0.55 and
// 1 - 2/(e^2x + 1) above; exact Gelu uses erfc(z) = t exp(-z^2 + P(t)), t = 1/(1 + z/2), whose
// relative error is below 1.2e-7 for every z >= 0, so Gelu keeps its relative accuracy on the
// negative side where 1 + erf(x) cancels.
#pragma once
#include <cfloat>
#include <cstdint>
#include <cstring>
#include <string>

#include "hs/graph.h"
#include "hs/status.h"

namespace hs::cpu {

enum class ActivationKind : uint8_t {
  kNone, kRelu, kLeakyRelu, kSigmoid, kTanh, kClip, kHardSigmoid, kHardSwish, kSilu, kGelu, kGeluTanh,
};

struct Activation {
  ActivationKind kind = ActivationKind::kNone;
  float alpha = 0.f;  // LeakyRelu: slope; Clip: min; HardSigmoid: alpha
  float beta = 0.f;   // Clip: max; HardSigmoid: beta
  // hs:FusedConv's output_affine: y = act(x) * scale + shift after the activation (CPU builds only).
  bool affine = false;
  float scale = 1.f, shift = 0.f;
  bool is_none() const { return kind == ActivationKind::kNone && !affine; }
};

// Reads the `activation` and `activation_params` attributes of a fused node. Gelu and GeluTanh
// are accepted only where `allow_gelu` (hs:FusedMatMul, hs:FusedGemm).
inline Status parse_activation(const Node& node, bool allow_gelu, Activation* out) {
  const std::string name = node.attr_string("activation", "");
  const std::vector<float> params = node.attr_floats("activation_params");
  auto param = [&](size_t i, float fallback) { return i < params.size() ? params[i] : fallback; };
  Activation act;
  if (name.empty()) {
    act.kind = ActivationKind::kNone;
  } else if (name == "Relu") {
    act.kind = ActivationKind::kRelu;
  } else if (name == "LeakyRelu") {
    act.kind = ActivationKind::kLeakyRelu;
    act.alpha = param(0, 0.01f);
  } else if (name == "Sigmoid") {
    act.kind = ActivationKind::kSigmoid;
  } else if (name == "Tanh") {
    act.kind = ActivationKind::kTanh;
  } else if (name == "Clip") {
    act.kind = ActivationKind::kClip;
    act.alpha = param(0, -FLT_MAX);
    act.beta = param(1, FLT_MAX);
  } else if (name == "HardSigmoid") {
    act.kind = ActivationKind::kHardSigmoid;
    act.alpha = param(0, 0.2f);
    act.beta = param(1, 0.5f);
  } else if (name == "HardSwish") {
    act.kind = ActivationKind::kHardSwish;
  } else if (name == "Silu") {
    act.kind = ActivationKind::kSilu;
  } else if (allow_gelu && name == "Gelu") {
    act.kind = ActivationKind::kGelu;
  } else if (allow_gelu && name == "GeluTanh") {
    act.kind = ActivationKind::kGeluTanh;
  } else {
    return Status(StatusCode::kUnsupportedOp, str_cat("attribute activation='", name, "' is not supported"));
  }
  if (node.attr("output_affine")) {
    const std::vector<float> affine = node.attr_floats("output_affine");
    if (affine.size() != 2)
      return Status(StatusCode::kInvalidModel, str_cat("attribute output_affine must hold 2 floats, got ", affine.size()));
    act.affine = true;
    act.scale = affine[0];
    act.shift = affine[1];
  }
  *out = act;
  return Status::ok();
}

// Vector math on W floats at a time (GCC vector extensions). Everything works in place on
// references, never passing vectors by value, so the same code is ABI-neutral whether it is
// inlined into SSE2, AVX2 or AVX-512 functions.
template <int W>
struct ActivationMath {
  typedef float F __attribute__((vector_size(4 * W)));
  typedef int32_t I __attribute__((vector_size(4 * W)));
#define HS_ACT_INLINE static inline __attribute__((always_inline))

  HS_ACT_INLINE void clamp(F& v, float lo, float hi) {
    v = v < lo ? F{} + lo : v;
    v = v > hi ? F{} + hi : v;
  }

  // x = e^x
  HS_ACT_INLINE void exp(F& x) {
    clamp(x, -87.3f, 88.7f);
    const float shifter = 12582912.f;  // 1.5 * 2^23: adding it rounds to an integer
    F shifted = x * 1.44269504f + shifter;
    F n = shifted - shifter;
    I n_int = (I)shifted - (I)(F{} + shifter);
    F r = x - n * 0.693145752f - n * 1.42860677e-6f;
    F p = r * (1.f / 5040) + (1.f / 720);
    p = p * r + (1.f / 120);
    p = p * r + (1.f / 24);
    p = p * r + (1.f / 6);
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    x = p * (F)((n_int + 127) << 23);
  }

  // x = 1 / (1 + e^-x)
  HS_ACT_INLINE void sigmoid(F& x) {
    F e = -x;
    exp(e);
    x = 1.f / (e + 1.f);
  }

  HS_ACT_INLINE void tanh(F& x) {
    F x2 = x * x;
    F p = x2 * (-929569.f / 638512875.f) + (21844.f / 6081075.f);
    p = p * x2 + (-1382.f / 155925.f);
    p = p * x2 + (62.f / 2835.f);
    p = p * x2 + (-17.f / 315.f);
    p = p * x2 + (2.f / 15.f);
    p = p * x2 + (-1.f / 3.f);
    F small = x + x * x2 * p;
    F ax = x < 0.f ? -x : x;
    F e = ax + ax;
    exp(e);
    F big = 1.f - 2.f / (e + 1.f);
    big = x < 0.f ? -big : big;
    x = ax < 0.55f ? small : big;
  }

  // erfc(z) for z >= 0.
  HS_ACT_INLINE void erfc_nonneg(F& z) {
    F t = 1.f / (z * 0.5f + 1.f);
    F p = t * 0.17087277f - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    p = p - z * z;
    exp(p);
    z = t * p;
  }

  // x * Phi(x) with Phi(x) = erfc(-x/sqrt2)/2, split by sign so neither side cancels.
  HS_ACT_INLINE void gelu(F& x) {
    F half_erfc = (x < 0.f ? -x : x) * 0.70710678f;
    erfc_nonneg(half_erfc);
    half_erfc = half_erfc * 0.5f;
    x = x * (x < 0.f ? half_erfc : 1.f - half_erfc);
  }

  // 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
  HS_ACT_INLINE void gelu_tanh(F& x) {
    F s = (x + x * x * x * 0.044715f) * (2.f * 0.797884561f);
    sigmoid(s);
    x = x * s;
  }

  template <ActivationKind K>
  HS_ACT_INLINE void apply(const Activation& act, F& v) {
    if constexpr (K == ActivationKind::kRelu) {
      v = v < 0.f ? F{} : v;
    } else if constexpr (K == ActivationKind::kLeakyRelu) {
      v = v < 0.f ? v * act.alpha : v;
    } else if constexpr (K == ActivationKind::kSigmoid) {
      sigmoid(v);
    } else if constexpr (K == ActivationKind::kTanh) {
      tanh(v);
    } else if constexpr (K == ActivationKind::kClip) {
      clamp(v, act.alpha, act.beta);
    } else if constexpr (K == ActivationKind::kHardSigmoid) {
      v = v * act.alpha + act.beta;
      clamp(v, 0.f, 1.f);
    } else if constexpr (K == ActivationKind::kHardSwish) {
      F gate = v * (1.f / 6) + 0.5f;
      clamp(gate, 0.f, 1.f);
      v = v * gate;
    } else if constexpr (K == ActivationKind::kSilu) {
      F s = v;
      sigmoid(s);
      v = v * s;
    } else if constexpr (K == ActivationKind::kGelu) {
      gelu(v);
    } else if constexpr (K == ActivationKind::kGeluTanh) {
      gelu_tanh(v);
    }
  }

  // One loop per kind (and with or without the output affine), so each body is branch-free; the
  // tail goes through a zero-padded vector so it gets exactly the same arithmetic.
  template <ActivationKind K, bool Affine>
  HS_ACT_INLINE void apply_loop(const Activation& act, float* data, int64_t n) {
    auto one = [&](F& v) {
      apply<K>(act, v);
      if constexpr (Affine) v = v * act.scale + act.shift;
    };
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      F v;
      std::memcpy(&v, data + i, sizeof v);
      one(v);
      std::memcpy(data + i, &v, sizeof v);
    }
    if (i < n) {
      F v = {};
      std::memcpy(&v, data + i, (size_t)(n - i) * sizeof(float));
      one(v);
      std::memcpy(data + i, &v, (size_t)(n - i) * sizeof(float));
    }
  }

  template <bool Affine>
  HS_ACT_INLINE void apply_kind(const Activation& act, float* data, int64_t n) {
    switch (act.kind) {
      case ActivationKind::kNone: return apply_loop<ActivationKind::kNone, Affine>(act, data, n);
      case ActivationKind::kRelu: return apply_loop<ActivationKind::kRelu, Affine>(act, data, n);
      case ActivationKind::kLeakyRelu: return apply_loop<ActivationKind::kLeakyRelu, Affine>(act, data, n);
      case ActivationKind::kSigmoid: return apply_loop<ActivationKind::kSigmoid, Affine>(act, data, n);
      case ActivationKind::kTanh: return apply_loop<ActivationKind::kTanh, Affine>(act, data, n);
      case ActivationKind::kClip: return apply_loop<ActivationKind::kClip, Affine>(act, data, n);
      case ActivationKind::kHardSigmoid: return apply_loop<ActivationKind::kHardSigmoid, Affine>(act, data, n);
      case ActivationKind::kHardSwish: return apply_loop<ActivationKind::kHardSwish, Affine>(act, data, n);
      case ActivationKind::kSilu: return apply_loop<ActivationKind::kSilu, Affine>(act, data, n);
      case ActivationKind::kGelu: return apply_loop<ActivationKind::kGelu, Affine>(act, data, n);
      case ActivationKind::kGeluTanh: return apply_loop<ActivationKind::kGeluTanh, Affine>(act, data, n);
    }
  }

  // data[i] = act(data[i]) (then * scale + shift, in the same pass) for i in [0, n).
  HS_ACT_INLINE void apply_all(const Activation& act, float* data, int64_t n) {
    if (act.affine) apply_kind<true>(act, data, n);
    else if (act.kind != ActivationKind::kNone) apply_kind<false>(act, data, n);
  }
#undef HS_ACT_INLINE
};

// data[i] = act(data[i]) for i in [0, n), with the widest vectors this CPU has (dispatched once;
// defined with the GEMM micro-kernels, which are compiled per instruction set).
void apply_activation(const Activation& act, float* data, int64_t n);

}  // namespace hs::cpu
