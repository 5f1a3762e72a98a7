// Reshape, Flatten, Squeeze, Unsqueeze, Identity, inference Dropout (views), Shape and Size (host
// values) on CUDA. All but Identity and Dropout compute metadata with the CPU backend's own kernel,
// run on a data-less stand-in of input 0 (its dtype and shape, no bytes) plus its host-side inputs (shape, axes): a view it
// returns becomes a view of the device memory, an output it allocates (Shape, Size) stays on the
// host. Input 0 never moves: a value living on the host (shape arithmetic that CPU nodes made) is
// viewed on the host. The semantics are thus the CPU's exactly.
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/movement.cuh"
#include "hs/kernel.h"
#include "hs/thread_pool.h"

namespace hs::cuda::ops {
namespace {

class MetadataContext final : public KernelContext {
 public:
  MetadataContext(CudaKernelContext& ctx, const Tensor& stand_in) : ctx_(ctx), stand_in_(stand_in) {}

  int num_inputs() const override { return ctx_.num_inputs(); }
  const Tensor* input(int i) const override { return i == 0 ? &stand_in_ : ctx_.host_input(i); }
  const Value* input_value(int) const override { return nullptr; }
  int num_outputs() const override { return ctx_.num_outputs(); }
  Tensor* output(int i, DType dtype, const Shape& shape) override {
    host_outputs_[i] = Tensor::empty(dtype, shape);
    return &host_outputs_[i];
  }
  void set_output(int i, Tensor tensor) override { views_[i] = std::move(tensor); }
  void set_output_value(int i, Value value) override { views_[i] = value.tensor(); }
  bool output_wanted(int i) const override { return ctx_.output_wanted(i); }
  ThreadPool& pool() const override {
    static ThreadPool caller_only(1);  // metadata kernels never split work; this one never starts a thread
    return caller_only;
  }
  SubgraphRunner* subgraphs() const override { return nullptr; }

  std::map<int, Tensor> host_outputs_, views_;

 private:
  CudaKernelContext& ctx_;
  const Tensor& stand_in_;
};

class MetadataKernel : public CudaKernelBase {
 public:
  explicit MetadataKernel(const CudaKernelInfo& info) {
    const DType t = info.input_dtype(0);
    if (t == DType::kUndefined || t == DType::kString) {
      HS_CUDA_UNSUPPORTED("the dtype of input 0 is ", t == DType::kString ? "string" : "unknown at build time");
      return;
    }
    const KernelFactory* factory = find_kernel(info.node.domain, info.node.op_type);
    if (!factory) {
      HS_CUDA_UNSUPPORTED("no kernel computes the shape of ", info.node.op_type);
      return;
    }
    KernelInfo cpu_info{info.node, info.opset, &info.initializers};
    auto kernel = (*factory)(cpu_info);
    if (!kernel.is_ok()) {
      init_status = kernel.status();
      return;
    }
    shape_kernel_ = kernel.take();
    host_values_ = info.node.op_type == "Shape" || info.node.op_type == "Size";
  }

  Access input_access(int input) const override { return input == 0 ? Access::kMetadata : Access::kHost; }
  bool writes_host_values() const override { return host_values_; }
  DType output_dtype(int output, const std::vector<DType>& inputs) const override {
    return host_values_ ? DType::kInt64 : CudaKernelBase::output_dtype(output, inputs);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) return compute_on_host(ctx);
    const Tensor stand_in(x->dtype, x->shape, nullptr);
    MetadataContext meta(ctx, stand_in);
    HS_RETURN_IF_ERROR(shape_kernel_->compute(meta));
    for (auto& [i, t] : meta.host_outputs_) ctx.set_host_output(i, std::move(t));
    const Tensor* host = ctx.host_input(0);  // also on the host: the views are too, so no reader copies
    for (auto& [i, t] : meta.views_) {
      if (t.buffer() || t.numel() != x->numel()) HS_FAIL(kInternal, "a metadata kernel made a tensor that is not a view");
      ctx.set_output(i, x->view(t.shape()));
      if (host) ctx.set_host_output(i, host->reshaped(t.shape()));
    }
    return Status::ok();
  }

 private:
  Status compute_on_host(CudaKernelContext& ctx) const {
    const Tensor* x = ctx.host_input(0);
    if (!x) HS_FAIL(kInvalidModel, "input 0 is required");
    MetadataContext meta(ctx, *x);
    HS_RETURN_IF_ERROR(shape_kernel_->compute(meta));
    for (auto& [i, t] : meta.host_outputs_) ctx.set_host_output(i, std::move(t));
    for (auto& [i, t] : meta.views_) ctx.set_host_output(i, std::move(t));
    return Status::ok();
  }

  std::unique_ptr<OpKernel> shape_kernel_;
  bool host_values_ = false;
};

// Identity of a tensor: its output is a view of the input wherever the input lives.
class IdentityKernel : public CudaKernelBase {
 public:
  explicit IdentityKernel(const CudaKernelInfo& info) {
    const DType t = info.input_dtype(0);
    if (t == DType::kUndefined || t == DType::kString)
      HS_CUDA_UNSUPPORTED("the dtype of input 0 is ", t == DType::kString ? "string" : "unknown at build time");
  }
  Access input_access(int) const override { return Access::kMetadata; }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    const Tensor* host = ctx.host_input(0);
    if (!x && !host) HS_FAIL(kInvalidModel, "input 0 is required");
    if (x) ctx.set_output(0, x->view(x->shape));
    if (host) ctx.set_host_output(0, *host);
    return Status::ok();
  }
};

// Dropout at inference (cpu::check_drops_nothing decides, with ratio and training_mode read on the
// host): output 0 a view of the input, the optional mask all true (bool from opset 10; before,
// float32 ones).
class Dropout : public CudaKernelBase {
 public:
  explicit Dropout(const CudaKernelInfo& info) : bool_mask_(info.opset >= 10), mode_inputs_(info.opset >= 12) {
    init_status = require_numeric(info, 0);
    const bool mask = info.node.outputs.size() > 1 && !info.node.outputs[1].empty();
    if (init_status.is_ok() && mask && !bool_mask_) init_status = require_dtype(info, 0, {DType::kFloat32});
    if (init_status.is_ok() && mode_inputs_ && info.has_input(2) && info.constant_input(2))
      init_status = cpu::check_drops_nothing(info.constant_input(1), info.constant_input(2));
  }
  Access input_access(int input) const override { return input == 0 ? Access::kDevice : Access::kHost; }
  DType output_dtype(int output, const std::vector<DType>& inputs) const override {
    if (output == 1) return bool_mask_ ? DType::kBool : DType::kFloat32;
    return CudaKernelBase::output_dtype(output, inputs);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    if (!x) HS_FAIL(kInvalidModel, "Dropout needs input 0");
    if (mode_inputs_) {
      auto host = [&](int i) { return i < ctx.num_inputs() ? ctx.host_input(i) : nullptr; };
      HS_RETURN_IF_ERROR(cpu::check_drops_nothing(host(1), host(2)));
    }
    if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
      const DType mask_dtype = bool_mask_ ? DType::kBool : DType::kFloat32;
      auto mask = ctx.output(1, mask_dtype, x->shape);
      if (!mask.is_ok()) return mask.status();
      HS_RETURN_IF_ERROR(fill(dtype_size(mask_dtype), bool_mask_ ? 1 : float_bits(1.f), mask.value()->data, x->numel(), ctx.stream()));
    }
    ctx.set_output(0, x->view(x->shape));
    return Status::ok();
  }

 private:
  bool bool_mask_, mode_inputs_;
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "Identity", IdentityKernel);
HS_REGISTER_CUDA_KERNEL("", "Dropout", Dropout);
HS_REGISTER_CUDA_KERNEL("", "Reshape", MetadataKernel);
HS_REGISTER_CUDA_KERNEL("", "Flatten", MetadataKernel);
HS_REGISTER_CUDA_KERNEL("", "Squeeze", MetadataKernel);
HS_REGISTER_CUDA_KERNEL("", "Unsqueeze", MetadataKernel);
HS_REGISTER_CUDA_KERNEL("", "Shape", MetadataKernel);
HS_REGISTER_CUDA_KERNEL("", "Size", MetadataKernel);

}  // namespace hs::cuda::ops
