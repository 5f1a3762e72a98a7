// MatMul, hs:FusedMatMul (Y = act(A @ B + bias)), Gemm and hs:FusedGemm
// (Y = act(alpha op(A) op(B) + beta C)) on CUDA, float32 activations, through the strided GEMM
// (gemm.cuh) or cuBLASLt, whichever tactic the plan selected (gemm_tactic.h). With precision
// fp16/bf16 a constant B is stored in that type on the device. MatMul follows numpy: 1-D operands are promoted and the added axis dropped; batch axes
// broadcast through zero batch strides; with a 2-D B, A's batch axes fold into the GEMM's rows.
#include "backends/cuda/ops/gemm_tactic.h"
#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/common.h"
#include "kernels/cuda/gemm.cuh"

namespace hs::cuda::ops {
namespace {

// A GEMM-like kernel whose input `weight` (B) is stored in 16 bits when it is a constant and the
// precision asks for it.
class GemmLikeKernel : public CudaKernelBase {
 public:
  DType device_constant_dtype(int input) const override {
    return input == 1 ? tactics_.weight_dtype() : DType::kUndefined;
  }
  std::vector<std::string> tactics() const override { return tactics_.candidates(); }
  Status select_tactic(const std::string& name) override { return tactics_.select(name); }
  std::string tactic() const override { return tactics_.selected(); }

 protected:
  GemmTactics tactics_;
};

class MatMulKernel : public GemmLikeKernel {
 public:
  MatMulKernel(const CudaKernelInfo& info, bool fused) {
    init_status = require_dtype(info, 0, {DType::kFloat32});
    if (init_status.is_ok()) init_status = require_dtype(info, 1, {DType::kFloat32});
    if (init_status.is_ok() && fused) init_status = parse_epilogue(info.node, true, &ep_);
    if (init_status.is_ok() && fused && info.has_input(2)) init_status = require_dtype(info, 2, {DType::kFloat32});
    tactics_.init(info, true);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* a = ctx.input(0);
    const DeviceTensor* b = ctx.input(1);
    const DeviceTensor* bias = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    GemmArgs g;
    HS_RETURN_IF_ERROR(check_dtype(a, DType::kFloat32, "A"));
    HS_RETURN_IF_ERROR(gemm_elem(b, "B", &g.b_elem));
    if (a->rank() == 0 || b->rank() == 0) HS_FAIL(kShape, "MatMul operands must have rank >= 1, got ", a->shape, " and ", b->shape);
    Shape as = a->shape, bs = b->shape;
    if (as.size() == 1) as.insert(as.begin(), 1);
    if (bs.size() == 1) bs.push_back(1);
    const int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
    if (bs[bs.size() - 2] != K) HS_FAIL(kShape, "MatMul operands ", a->shape, " and ", b->shape, " do not agree on K");
    const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
    Shape batch;
    HS_RETURN_IF_ERROR(cpu::broadcast_shapes(a_batch, b_batch, &batch));
    Shape out = batch;
    if (a->rank() > 1) out.push_back(M);
    if (b->rank() > 1) out.push_back(N);
    if (bias) {
      HS_RETURN_IF_ERROR(check_dtype(bias, DType::kFloat32, "bias"));
      if (bias->numel() != N) HS_FAIL(kShape, "bias ", bias->shape, " must hold N=", N, " values");
    }
    auto y = ctx.output(0, DType::kFloat32, out);
    if (!y.is_ok()) return y.status();

    g.a = a->data, g.a_rs = K, g.a_cs = 1;
    g.b = b->data, g.b_rs = N, g.b_cs = 1;
    g.c = y.value()->as<float>(), g.c_rs = N, g.c_bs = M * N;
    g.N = N, g.K = K;
    g.bias = bias ? bias->as<float>() : nullptr;
    g.ep = ep_;
    if (b_batch.empty()) {  // one GEMM over every row of A
      g.M = shape_numel(a_batch) * M;
    } else {
      g.M = M;
      HS_RETURN_IF_ERROR(index_space(batch, &g.batch));
      g.a_bs = broadcast_strides(a_batch, batch);
      g.b_bs = broadcast_strides(b_batch, batch);
      for (size_t d = 0; d < batch.size(); ++d) g.a_bs.s[d] *= M * K, g.b_bs.s[d] *= K * N;
    }
    return run_gemm(tactics_, g, ctx);
  }

 private:
  Epilogue ep_;
};

struct MatMul : MatMulKernel {
  explicit MatMul(const CudaKernelInfo& info) : MatMulKernel(info, false) {}
};
struct FusedMatMul : MatMulKernel {
  explicit FusedMatMul(const CudaKernelInfo& info) : MatMulKernel(info, true) {}
};

class GemmKernel : public GemmLikeKernel {
 public:
  GemmKernel(const CudaKernelInfo& info, bool fused) {
    const Node& node = info.node;
    trans_a_ = node.attr_int("transA", 0) != 0;
    trans_b_ = node.attr_int("transB", 0) != 0;
    alpha_ = node.attr_float("alpha", 1.f);
    beta_ = node.attr_float("beta", 1.f);
    if (info.opset < 7) {
      HS_CUDA_UNSUPPORTED("Gemm before opset 7 (broadcast attribute)");
      return;
    }
    for (size_t i = 0; i < node.inputs.size() && init_status.is_ok(); ++i)
      if (info.has_input(i)) init_status = require_dtype(info, i, {DType::kFloat32});
    if (init_status.is_ok() && fused) init_status = parse_epilogue(node, true, &ep_);
    tactics_.init(info, true);
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* a = ctx.input(0);
    const DeviceTensor* b = ctx.input(1);
    const DeviceTensor* c = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    GemmArgs g;
    HS_RETURN_IF_ERROR(check_dtype(a, DType::kFloat32, "A"));
    HS_RETURN_IF_ERROR(gemm_elem(b, "B", &g.b_elem));
    if (a->rank() != 2 || b->rank() != 2) HS_FAIL(kShape, "Gemm needs 2-D A and B, got ", a->shape, " and ", b->shape);
    const int64_t M = trans_a_ ? a->shape[1] : a->shape[0], K = trans_a_ ? a->shape[0] : a->shape[1];
    const int64_t N = trans_b_ ? b->shape[0] : b->shape[1];
    if ((trans_b_ ? b->shape[1] : b->shape[0]) != K)
      HS_FAIL(kShape, "Gemm A ", a->shape, " and B ", b->shape, " do not agree on K");
    if (c) {
      HS_RETURN_IF_ERROR(check_dtype(c, DType::kFloat32, "C"));
      Shape bc;
      if (c->rank() > 2 || !cpu::broadcast_shapes(c->shape, {M, N}, &bc).is_ok() || bc != Shape{M, N})
        HS_FAIL(kShape, "Gemm C ", c->shape, " does not broadcast to [", M, ",", N, "]");
      const Strides cs = broadcast_strides(c->shape, {M, N});
      g.d = c->as<float>(), g.d_rs = cs.s[0], g.d_cs = cs.s[1], g.beta = beta_;
    }
    auto y = ctx.output(0, DType::kFloat32, {M, N});
    if (!y.is_ok()) return y.status();
    g.M = M, g.N = N, g.K = K, g.alpha = alpha_;
    g.a = a->data, g.a_rs = trans_a_ ? 1 : K, g.a_cs = trans_a_ ? M : 1;
    g.b = b->data, g.b_rs = trans_b_ ? 1 : N, g.b_cs = trans_b_ ? K : 1;
    g.c = y.value()->as<float>(), g.c_rs = N;
    g.ep = ep_;
    return run_gemm(tactics_, g, ctx);
  }

 private:
  bool trans_a_ = false, trans_b_ = false;
  float alpha_ = 1.f, beta_ = 1.f;
  Epilogue ep_;
};

struct Gemm : GemmKernel {
  explicit Gemm(const CudaKernelInfo& info) : GemmKernel(info, false) {}
};
struct FusedGemm : GemmKernel {
  explicit FusedGemm(const CudaKernelInfo& info) : GemmKernel(info, true) {}
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("", "MatMul", MatMul);
HS_REGISTER_CUDA_KERNEL("hs", "FusedMatMul", FusedMatMul);
HS_REGISTER_CUDA_KERNEL("", "Gemm", Gemm);
HS_REGISTER_CUDA_KERNEL("hs", "FusedGemm", FusedGemm);

}  // namespace hs::cuda::ops
