// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (the second is log_softmax over axis 1,
// then the first), as evaluation graphs export them: input [N, C, d...] and integer targets
// [N, d...]; each element's loss is -input[n, target, d] * weight[target] (weight 1 without a
// weight input, 0 where the target is ignore_index); reduction none keeps them, sum adds them,
// mean divides the sum by the sum of the weights used. Computed in double.
#include <cmath>
#include <vector>

#include "kernels/cpu/dense_dtype.h"

namespace hs::cpu {
namespace {

struct LossOptions {
  enum class Reduction { kNone, kSum, kMean } reduction = Reduction::kMean;
  bool has_ignore = false;
  int64_t ignore_index = 0;
};

Status parse_loss_options(const KernelInfo& info, LossOptions* out) {
  const std::string reduction = info.node.attr_string("reduction", "mean");
  if (reduction == "none") out->reduction = LossOptions::Reduction::kNone;
  else if (reduction == "sum") out->reduction = LossOptions::Reduction::kSum;
  else if (reduction == "mean") out->reduction = LossOptions::Reduction::kMean;
  else HS_FAIL(kInvalidModel, info.node.op_type, ": reduction '", reduction, "' is not none, sum or mean");
  out->has_ignore = info.node.attr("ignore_index") != nullptr;
  out->ignore_index = info.node.attr_int("ignore_index", 0);
  return Status::ok();
}

// The loss of log-probabilities `logp` ([N, C, inner] as double) into output 0.
Status nll(KernelContext& ctx, const char* op, const LossOptions& o, const std::vector<double>& logp, const Shape& shape,
           DType dtype, int target_input, int weight_input) {
  const Tensor* target;
  HS_RETURN_IF_ERROR(require_input(ctx, target_input, op, &target));
  if (target->dtype() != DType::kInt64 && target->dtype() != DType::kInt32)
    HS_FAIL(kType, op, ": the target must be int32 or int64, got ", dtype_name(target->dtype()));
  if (shape.size() < 2) HS_FAIL(kShape, op, ": the input must be [N, C, ...], got ", shape);
  Shape expect(shape);
  expect.erase(expect.begin() + 1);
  if (target->shape() != expect) HS_FAIL(kShape, op, ": the target must have shape ", expect, ", got ", target->shape());
  const int64_t n = shape[0], classes = shape[1], inner = shape_numel(shape) / std::max<int64_t>(n * classes, 1);
  std::vector<double> weight;
  if (const Tensor* w = ctx.input(weight_input)) {
    if (w->rank() != 1 || w->dim(0) != classes) HS_FAIL(kShape, op, ": the weight must have ", classes, " values, got ", w->shape());
    weight = w->to_double_vector();
  }
  const std::vector<int64_t> targets = target->to_int64_vector();
  std::vector<double> loss(targets.size());
  double sum = 0, weights = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < inner; ++i) {
      const size_t t = (size_t)(b * inner + i);
      const int64_t c = targets[t];
      if (o.has_ignore && c == o.ignore_index) continue;
      if (c < 0 || c >= classes) HS_FAIL(kInvalidArgument, op, ": target ", c, " is outside [0, ", classes, ")");
      const double w = weight.empty() ? 1.0 : weight[(size_t)c];
      loss[t] = -logp[(size_t)((b * classes + c) * inner + i)] * w;
      sum += loss[t];
      weights += w;
    }
  std::vector<double> out;
  Shape out_shape;
  switch (o.reduction) {
    case LossOptions::Reduction::kNone: out = loss, out_shape = target->shape(); break;
    case LossOptions::Reduction::kSum: out = {sum}; break;
    case LossOptions::Reduction::kMean: out = {sum / weights}; break;
  }
  return store_from_double(out, ctx.output(0, dtype, out_shape));
}

class NegativeLogLikelihoodLoss final : public KernelBase {
 public:
  explicit NegativeLogLikelihoodLoss(const KernelInfo& info) { init_status = parse_loss_options(info, &options_); }
  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "NegativeLogLikelihoodLoss", &x));
    if (!is_float(x->dtype())) HS_FAIL(kType, "NegativeLogLikelihoodLoss: the input must be a float tensor");
    return nll(ctx, "NegativeLogLikelihoodLoss", options_, x->to_double_vector(), x->shape(), x->dtype(), 1, 2);
  }

 private:
  LossOptions options_;
};

class SoftmaxCrossEntropyLoss final : public KernelBase {
 public:
  explicit SoftmaxCrossEntropyLoss(const KernelInfo& info) { init_status = parse_loss_options(info, &options_); }
  Status compute(KernelContext& ctx) const override {
    const char* op = "SoftmaxCrossEntropyLoss";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    if (!is_float(x->dtype())) HS_FAIL(kType, op, ": the scores must be a float tensor");
    if (x->rank() < 2) HS_FAIL(kShape, op, ": the scores must be [N, C, ...], got ", x->shape());
    const int64_t n = x->dim(0), classes = x->dim(1), inner = x->numel() / std::max<int64_t>(n * classes, 1);
    std::vector<double> logp = x->to_double_vector();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < inner; ++i) {
        double top = -INFINITY, sum = 0;
        for (int64_t c = 0; c < classes; ++c) top = std::max(top, logp[(size_t)((b * classes + c) * inner + i)]);
        for (int64_t c = 0; c < classes; ++c) sum += std::exp(logp[(size_t)((b * classes + c) * inner + i)] - top);
        const double log_sum = top + std::log(sum);
        for (int64_t c = 0; c < classes; ++c) logp[(size_t)((b * classes + c) * inner + i)] -= log_sum;
      }
    HS_RETURN_IF_ERROR(nll(ctx, op, options_, logp, x->shape(), x->dtype(), 1, 2));
    if (ctx.num_outputs() < 2 || !ctx.output_wanted(1)) return Status::ok();
    return store_from_double(logp, ctx.output(1, x->dtype(), x->shape()));
  }

 private:
  LossOptions options_;
};

}  // namespace

HS_REGISTER_KERNEL("", "NegativeLogLikelihoodLoss", NegativeLogLikelihoodLoss);
HS_REGISTER_KERNEL("", "SoftmaxCrossEntropyLoss", SoftmaxCrossEntropyLoss);

}  // namespace hs::cpu
