// Recurrent-operator activation functions (see rnn_activation.h). Sigmoid, Tanh, Relu, LeakyRelu
// and HardSigmoid go through the vectorised activation epilogue of the GEMM (activation.h); the
// rarer kinds are plain loops.
#include "kernels/cpu/rnn_activation.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "kernels/cpu/activation.h"

namespace hs::cpu {
namespace {

struct KindInfo {
  const char* name;
  RnnActivation::Kind kind;
  bool uses_alpha, uses_beta;
  float default_alpha, default_beta;  // when the lists run out
};

constexpr KindInfo kKinds[] = {
    {"relu", RnnActivation::Kind::kRelu, false, false, 0.f, 0.f},
    {"tanh", RnnActivation::Kind::kTanh, false, false, 0.f, 0.f},
    {"sigmoid", RnnActivation::Kind::kSigmoid, false, false, 0.f, 0.f},
    {"affine", RnnActivation::Kind::kAffine, true, true, 0.f, 0.f},
    {"leakyrelu", RnnActivation::Kind::kLeakyRelu, true, false, 0.01f, 0.f},
    {"thresholdedrelu", RnnActivation::Kind::kThresholdedRelu, true, false, 0.f, 0.f},
    {"scaledtanh", RnnActivation::Kind::kScaledTanh, true, true, 0.f, 0.f},
    {"hardsigmoid", RnnActivation::Kind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"elu", RnnActivation::Kind::kElu, true, false, 1.f, 0.f},
    {"softsign", RnnActivation::Kind::kSoftsign, false, false, 0.f, 0.f},
    {"softplus", RnnActivation::Kind::kSoftplus, false, false, 0.f, 0.f},
};

void apply_epilogue(ActivationKind kind, float alpha, float beta, float* data, int64_t n) {
  Activation act;
  act.kind = kind;
  act.alpha = alpha;
  act.beta = beta;
  apply_activation(act, data, n);
}

}  // namespace

void RnnActivation::apply(float* data, int64_t n) const {
  switch (kind) {
    case Kind::kRelu: return apply_epilogue(ActivationKind::kRelu, 0.f, 0.f, data, n);
    case Kind::kTanh: return apply_epilogue(ActivationKind::kTanh, 0.f, 0.f, data, n);
    case Kind::kSigmoid: return apply_epilogue(ActivationKind::kSigmoid, 0.f, 0.f, data, n);
    case Kind::kLeakyRelu: return apply_epilogue(ActivationKind::kLeakyRelu, alpha, 0.f, data, n);
    case Kind::kHardSigmoid: return apply_epilogue(ActivationKind::kHardSigmoid, alpha, beta, data, n);
    case Kind::kAffine:
      for (int64_t i = 0; i < n; ++i) data[i] = alpha * data[i] + beta;
      return;
    case Kind::kThresholdedRelu:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] > alpha ? data[i] : 0.f;
      return;
    case Kind::kScaledTanh:
      for (int64_t i = 0; i < n; ++i) data[i] = alpha * std::tanh(beta * data[i]);
      return;
    case Kind::kElu:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] >= 0.f ? data[i] : alpha * std::expm1(data[i]);
      return;
    case Kind::kSoftsign:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] / (1.f + std::fabs(data[i]));
      return;
    case Kind::kSoftplus:
      for (int64_t i = 0; i < n; ++i) data[i] = data[i] > 20.f ? data[i] : std::log1p(std::exp(data[i]));
      return;
  }
}

Status parse_rnn_activations(const char* op, const std::vector<std::string>& names, const std::vector<float>& alphas,
                             const std::vector<float>& betas, const std::vector<std::string>& defaults,
                             int64_t directions, std::vector<RnnActivation>* out) {
  const size_t per_direction = defaults.size();
  const std::vector<std::string>& given = names.empty() ? defaults : names;
  std::vector<std::string> list = given;
  if (given.size() == per_direction && directions == 2) list.insert(list.end(), given.begin(), given.end());
  if (list.size() != per_direction * (size_t)directions)
    HS_FAIL(kInvalidModel, op, ": attribute activations has ", names.size(), " functions, expected ",
            per_direction * directions);
  size_t next_alpha = 0, next_beta = 0;
  out->clear();
  for (const std::string& name : list) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return (char)std::tolower(c); });
    const KindInfo* info = nullptr;
    for (const KindInfo& k : kKinds)
      if (lower == k.name) info = &k;
    if (!info) HS_FAIL(kUnsupportedOp, op, ": attribute activations='", name, "' is not supported");
    RnnActivation act;
    act.kind = info->kind;
    if (info->uses_alpha) act.alpha = next_alpha < alphas.size() ? alphas[next_alpha++] : info->default_alpha;
    if (info->uses_beta) act.beta = next_beta < betas.size() ? betas[next_beta++] : info->default_beta;
    out->push_back(act);
  }
  return Status::ok();
}

}  // namespace hs::cpu
