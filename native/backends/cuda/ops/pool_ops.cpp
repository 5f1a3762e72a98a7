// MaxPool, AveragePool (1-, 2- and 3-D windows) and GlobalAveragePool / GlobalMaxPool (any rank) on
// CUDA, float32. Window geometry is the CPU backend's; the global pools are reductions over the
// spatial axes.
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/conv_geometry.h"
#include "kernels/cuda/pool.cuh"
#include "kernels/cuda/reduce.cuh"

namespace hs::cuda::ops {
namespace {

class PoolKernel : public CudaKernelBase {
 public:
  PoolKernel(const CudaKernelInfo& info, bool max) : max_(max) {
    init_status = cpu::parse_window_attrs(info.node, &attrs_);
    if (init_status.is_ok()) init_status = require_dtype(info, 0, {DType::kFloat32});
    if (!init_status.is_ok()) return;
    count_include_pad_ = info.node.attr_int("count_include_pad", 0) != 0;
    if (attrs_.kernel_shape.empty() || attrs_.kernel_shape.size() > (size_t)kPoolAxes)
      HS_CUDA_UNSUPPORTED("the CUDA pools take 1-, 2- and 3-D kernel_shape attributes");
    else if (info.node.outputs.size() > 1 && !info.node.outputs[1].empty())
      HS_CUDA_UNSUPPORTED("MaxPool's Indices output");
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    const size_t spatial = attrs_.kernel_shape.size();
    if ((size_t)x->rank() != spatial + 2) HS_FAIL(kShape, "pool X ", x->shape, " must have ", spatial, " spatial axes");
    const Shape in(x->shape.begin() + 2, x->shape.end());
    cpu::WindowGeometry g;
    HS_RETURN_IF_ERROR(cpu::forward_window(attrs_, attrs_.kernel_shape, in, &g));
    Shape out = {x->shape[0], x->shape[1]};
    out.insert(out.end(), g.out.begin(), g.out.end());
    auto y = ctx.output(0, DType::kFloat32, out);
    if (!y.is_ok()) return y.status();
    PoolArgs a;
    a.x = x->as<float>(), a.y = y.value()->as<float>();
    a.planes = x->shape[0] * x->shape[1];
    for (size_t s = 0; s < spatial; ++s) {  // the trailing axes; leading ones stay of length 1
      const size_t d = kPoolAxes - spatial + s;
      a.in[d] = in[s], a.out[d] = g.out[s], a.kernel[d] = g.kernel[s], a.stride[d] = g.strides[s];
      a.dilation[d] = g.dilations[s], a.pad_begin[d] = g.pad_begin[s], a.pad_end[d] = g.pad_end[s];
    }
    a.max = max_;
    a.count_include_pad = count_include_pad_;
    return pool_f32(a, ctx.stream());
  }

 private:
  bool max_;
  bool count_include_pad_ = false;
  cpu::WindowAttrs attrs_;
};

struct MaxPool : PoolKernel {
  explicit MaxPool(const CudaKernelInfo& info) : PoolKernel(info, true) {}
};
struct AveragePool : PoolKernel {
  explicit AveragePool(const CudaKernelInfo& info) : PoolKernel(info, false) {}
};

class GlobalPoolKernel : public CudaKernelBase {
 public:
  GlobalPoolKernel(const CudaKernelInfo& info, ReduceOp op) : op_(op) { init_status = require_dtype(info, 0, {DType::kFloat32}); }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* x = ctx.input(0);
    HS_RETURN_IF_ERROR(check_dtype(x, DType::kFloat32, "X"));
    if (x->rank() < 2) HS_FAIL(kShape, "global pool X ", x->shape, " must have rank >= 2");
    Shape out(x->shape.size(), 1);
    out[0] = x->shape[0], out[1] = x->shape[1];
    auto y = ctx.output(0, DType::kFloat32, out);
    if (!y.is_ok()) return y.status();
    const Shape spatial(x->shape.begin() + 2, x->shape.end());
    ReduceArgs a;
    a.x = x->as<float>(), a.y = y.value()->as<float>(), a.op = op_;
    a.kept.rank = 1, a.kept.dims[0] = x->shape[0] * x->shape[1];
    a.kept_strides.s[0] = shape_numel(spatial);
    a.reduced.rank = 1, a.reduced.dims[0] = shape_numel(spatial);
    a.reduced_strides.s[0] = 1;
    return reduce_f32(a, ctx.stream());
  }

 private:
  ReduceOp op_;
};

struct GlobalAveragePool : GlobalPoolKernel {
  explicit GlobalAveragePool(const CudaKernelInfo& info) : GlobalPoolKernel(info, ReduceOp::kMean) {}
};
struct GlobalMaxPool : GlobalPoolKernel {
  explicit GlobalMaxPool(const CudaKernelInfo& info) : GlobalPoolKernel(info, ReduceOp::kMax) {}
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "MaxPool", MaxPool);
HS_REGISTER_CUDA_KERNEL("", "AveragePool", AveragePool);
HS_REGISTER_CUDA_KERNEL("", "GlobalAveragePool", GlobalAveragePool);
HS_REGISTER_CUDA_KERNEL("", "GlobalMaxPool", GlobalMaxPool);

}  // namespace hs::cuda::ops
