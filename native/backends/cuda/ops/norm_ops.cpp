// BatchNormalization (inference), LayerNormalization, InstanceNormalization, GroupNormalization, LRN, Softmax and LogSoftmax on
// CUDA, float32 (norm.cuh). BatchNormalization's training outputs (running mean and variance) stay on
// the CPU. LayerNormalization normalises the trailing axes from `axis` with Scale (and B) of that
// trailing shape, and writes its optional Mean / InvStdDev outputs from the same pass. Softmax before opset 13 flattens
// at `axis` (default 1); from 13 it normalises the single axis (default -1).
#include "backends/cuda/ops/op_common.h"
#include "kernels/cuda/norm.cuh"

namespace hs::cuda::ops {
namespace {

class BatchNorm : public CudaKernelBase {
 public:
  explicit BatchNorm(const CudaKernelInfo& info) {
    epsilon_ = info.node.attr_float("epsilon", 1e-5f);
    for (size_t i = 0; i < 5 && init_status.is_ok(); ++i) init_status = require_dtype(info, i, {DType::kFloat32});
    if (!init_status.is_ok()) return;
    if (info.node.attr_int("training_mode", 0) != 0 || (info.opset < 9 && info.node.attr_int("spatial", 1) != 1))
      HS_CUDA_UNSUPPORTED("BatchNormalization in training mode or per-activation (spatial=0)");
    for (size_t o = 1; o < info.node.outputs.size() && init_status.is_ok(); ++o)
      if (!info.node.outputs[o].empty()) HS_CUDA_UNSUPPORTED("BatchNormalization's running statistics outputs");
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    if (x->rank() < 2) HS_FAIL(kShape, "BatchNormalization X ", x->shape, " needs a channel axis");
    const int64_t channels = x->shape[1];
    const DeviceTensor* p[4];
    const char* names[4] = {"scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 4; ++i) {
      p[i] = ctx.input(i + 1);
      HS_RETURN_IF_ERROR(check_dtype(p[i], DType::kFloat32, names[i]));
      if (p[i]->numel() != channels) HS_FAIL(kShape, names[i], " ", p[i]->shape, " must hold ", channels, " values");
    }
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    const int64_t spatial = shape_numel(Shape(x->shape.begin() + 2, x->shape.end()));
    return batch_norm_f32(x->as<float>(), p[0]->as<float>(), p[1]->as<float>(), p[2]->as<float>(), p[3]->as<float>(),
                          y.value()->as<float>(), x->shape[0], channels, spatial, epsilon_, ctx.stream());
  }

 private:
  float epsilon_ = 1e-5f;
};

class LayerNorm : public CudaKernelBase {
 public:
  explicit LayerNorm(const CudaKernelInfo& info) {
    axis_ = info.node.attr_int("axis", -1);
    epsilon_ = info.node.attr_float("epsilon", 1e-5f);
    for (size_t i = 0; i < info.node.inputs.size() && init_status.is_ok(); ++i)
      if (info.has_input(i)) init_status = require_dtype(info, i, {DType::kFloat32});
    if (init_status.is_ok() && info.node.attr_int("stash_type", 1) != 1) HS_CUDA_UNSUPPORTED("stash_type other than float32");
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const DeviceTensor* scale = ctx.input(1);
    const DeviceTensor* bias = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    HS_RETURN_IF_ERROR(check_dtype(scale, DType::kFloat32, "Scale"));
    const int64_t axis = normalize_axis(axis_, x->rank());
    if (axis < 0 || axis >= x->rank()) HS_FAIL(kInvalidArgument, "axis ", axis_, " is out of range for X ", x->shape);
    const int64_t cols = shape_numel(Shape(x->shape.begin() + axis, x->shape.end()));
    const int64_t rows = cols ? x->numel() / cols : 0;
    // Scale and B must cover a whole row (broadcasting a smaller one stays on the CPU kernel's path).
    if (scale->numel() != cols || (bias && (bias->dtype != DType::kFloat32 || bias->numel() != cols)))
      HS_FAIL(kShape, "Scale ", scale->shape, " and B must hold the ", cols, " elements of a normalised row");
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    // Mean and InvStdDev keep X's shape with the normalised axes as ones.
    Shape stats_shape(x->shape.begin(), x->shape.begin() + axis);
    stats_shape.resize((size_t)x->rank(), 1);
    float* stats[2] = {nullptr, nullptr};
    for (int o = 1; o <= 2; ++o) {
      if (o >= ctx.num_outputs() || !ctx.output_wanted(o)) continue;
      auto t = ctx.output(o, DType::kFloat32, stats_shape);
      if (!t.is_ok()) return t.status();
      stats[o - 1] = t.value()->as<float>();
    }
    return layer_norm_f32(x->as<float>(), scale->as<float>(), bias ? bias->as<float>() : nullptr,
                          y.value()->as<float>(), rows, cols, epsilon_, ctx.stream(), stats[0], stats[1]);
  }

 private:
  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
};

// InstanceNormalization, and GroupNormalization (opsets 18 and 21): each (n, group) run of C / groups
// channels normalised (instance normalisation: one channel per group), then scaled and shifted per
// channel, or per group in GroupNormalization-18.
class GroupNorm : public CudaKernelBase {
 public:
  GroupNorm(const CudaKernelInfo& info, bool instance)
      : op_(instance ? "InstanceNormalization" : "GroupNormalization"), epsilon_(info.node.attr_float("epsilon", 1e-5f)),
        groups_(instance ? 0 : info.node.attr_int("num_groups", 0)), per_channel_(instance || info.opset >= 21) {
    for (size_t i = 0; i < 3 && init_status.is_ok(); ++i) init_status = require_dtype(info, i, {DType::kFloat32});
    if (init_status.is_ok() && !instance && groups_ <= 0) HS_CUDA_UNSUPPORTED("num_groups must be > 0, got ", groups_);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const DeviceTensor* scale = ctx.input(1);
    const DeviceTensor* bias = ctx.input(2);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input"));
    HS_RETURN_IF_ERROR(check_dtype(scale, DType::kFloat32, "scale"));
    HS_RETURN_IF_ERROR(check_dtype(bias, DType::kFloat32, "bias"));
    if (x->rank() < 2) HS_FAIL(kShape, op_, ": input must have rank >= 2 ([N, C, ...]), got shape ", x->shape);
    const int64_t channels = x->shape[1], groups = groups_ > 0 ? groups_ : channels;
    if (groups == 0 || channels % groups) HS_FAIL(kShape, op_, ": ", channels, " channels do not split into ", groups, " groups");
    const int64_t params = per_channel_ ? channels : groups;
    if (scale->numel() != params || bias->numel() != params)
      HS_FAIL(kShape, op_, ": scale ", scale->shape, " and bias ", bias->shape, " must hold ", params, " values");
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    const int64_t spatial = shape_numel(Shape(x->shape.begin() + 2, x->shape.end()));
    return group_norm_f32(x->as<float>(), scale->as<float>(), bias->as<float>(), y.value()->as<float>(), x->shape[0], groups,
                          channels / groups, spatial, per_channel_, epsilon_, ctx.stream());
  }

 private:
  const char* op_;
  float epsilon_;
  int64_t groups_;  // 0: one per channel
  bool per_channel_;
};

struct InstanceNorm : GroupNorm {
  explicit InstanceNorm(const CudaKernelInfo& info) : GroupNorm(info, true) {}
};
struct GroupNormalization : GroupNorm {
  explicit GroupNormalization(const CudaKernelInfo& info) : GroupNorm(info, false) {}
};

// LRN across channels of x [N, C, spatial...].
class Lrn : public CudaKernelBase {
 public:
  explicit Lrn(const CudaKernelInfo& info)
      : size_(info.node.attr_int("size", 0)), alpha_(info.node.attr_float("alpha", 1e-4f)),
        beta_(info.node.attr_float("beta", 0.75f)), bias_(info.node.attr_float("bias", 1.f)) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    if (init_status.is_ok() && size_ <= 0) HS_CUDA_UNSUPPORTED("LRN: attribute size=", size_, " must be positive");
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input"));
    if (x->rank() < 2) HS_FAIL(kShape, "LRN: input must have rank >= 2 ([N, C, ...]), got shape ", x->shape);
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    const int64_t spatial = shape_numel(Shape(x->shape.begin() + 2, x->shape.end()));
    return lrn_f32(x->as<float>(), y.value()->as<float>(), x->shape[0], x->shape[1], spatial, size_, alpha_, beta_, bias_,
                   ctx.stream());
  }

 private:
  int64_t size_;
  float alpha_, beta_, bias_;
};

template <bool Log>
class SoftmaxKernel : public CudaKernelBase {
 public:
  explicit SoftmaxKernel(const CudaKernelInfo& info) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    flatten_ = info.opset < 13;
    axis_ = info.node.attr_int("axis", flatten_ ? 1 : -1);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "input"));
    const int64_t rank = x->rank();
    const int64_t axis = normalize_axis(axis_, rank);
    if (rank == 0 || axis < 0 || axis >= rank) HS_FAIL(kInvalidArgument, "axis ", axis_, " is out of range for ", x->shape);
    const int64_t outer = shape_numel(Shape(x->shape.begin(), x->shape.begin() + axis));
    const int64_t len = flatten_ ? shape_numel(Shape(x->shape.begin() + axis, x->shape.end())) : x->shape[axis];
    const int64_t inner = flatten_ ? 1 : shape_numel(Shape(x->shape.begin() + axis + 1, x->shape.end()));
    auto y = ctx.output(0, DType::kFloat32, x->shape);
    if (!y.is_ok()) return y.status();
    if (inner == 1)
      return softmax_rows_f32(x->as<float>(), y.value()->as<float>(), outer, len, Log, 1.f, RowMask{}, ctx.stream());
    return softmax_axis_f32(x->as<float>(), y.value()->as<float>(), outer, len, inner, Log, ctx.stream());
  }

 private:
  bool flatten_ = false;
  int64_t axis_ = -1;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "BatchNormalization", BatchNorm);
HS_REGISTER_CUDA_KERNEL("", "LayerNormalization", LayerNorm);
HS_REGISTER_CUDA_KERNEL("", "InstanceNormalization", InstanceNorm);
HS_REGISTER_CUDA_KERNEL("", "GroupNormalization", GroupNormalization);
HS_REGISTER_CUDA_KERNEL("", "LRN", Lrn);
HS_REGISTER_CUDA_KERNEL("", "Softmax", SoftmaxKernel<false>);
HS_REGISTER_CUDA_KERNEL("", "LogSoftmax", SoftmaxKernel<true>);

}  // namespace hs::cuda::ops
