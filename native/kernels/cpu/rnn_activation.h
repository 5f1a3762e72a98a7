// The activation functions of the recurrent operators (RNN, GRU, LSTM `activations` attribute):
// Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu,
// Softsign, Softplus. Names match case-insensitively; alpha/beta values are taken in order from
// activation_alpha / activation_beta by the functions that use them, across both directions. A
// function left without a value gets its standalone operator's default for LeakyRelu (0.01),
// HardSigmoid (0.2, 0.5) and Elu (1), else 0 (the spec gives none; this is onnxruntime's reading).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hs/status.h"

namespace hs::cpu {

struct RnnActivation {
  enum class Kind : uint8_t {
    kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu,
    kScaledTanh, kHardSigmoid, kElu, kSoftsign, kSoftplus,
  };
  Kind kind = Kind::kSigmoid;
  float alpha = 0.f;
  float beta = 0.f;

  // data[i] = f(data[i]) for i < n (vectorised for the common kinds).
  void apply(float* data, int64_t n) const;
};

// Reads `names` (with the alpha/beta lists) into `per_direction * directions` activations; a list
// of only `per_direction` names is used for every direction; an empty list gives `defaults`.
Status parse_rnn_activations(const char* op, const std::vector<std::string>& names, const std::vector<float>& alphas,
                             const std::vector<float>& betas, const std::vector<std::string>& defaults,
                             int64_t directions, std::vector<RnnActivation>* out);

}  // namespace hs::cpu
