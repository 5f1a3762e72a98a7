// Gemm and hs:FusedGemm: Y = act(alpha * op(A) @ op(B) + beta * C), op = transpose or not, C
// broadcast (unidirectionally) to [M, N]. float32 runs the packed GEMM (gemm.h) with B packed at
// build time when it is a constant. A C of shape [N] or [1, N] becomes the epilogue's column bias
// (the common Linear-layer case); any other C is first broadcast into Y, then accumulated with
// the GEMM's beta. float16/bfloat16/float64 are computed in float32.
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/dense_dtype.h"
#include "kernels/cpu/gemm.h"

namespace hs::cpu {
namespace {

class GemmKernel : public KernelBase {
 public:
  GemmKernel(const KernelInfo& info, bool fused) {
    const Node& node = info.node;
    trans_a_ = node.attr_int("transA", 0) != 0;
    trans_b_ = node.attr_int("transB", 0) != 0;
    alpha_ = node.attr_float("alpha", 1.f);
    beta_ = node.attr_float("beta", 1.f);
    if (node.attr("broadcast") && info.opset < 7 && node.attr_int("broadcast", 0) == 0)
      init_status = Status(StatusCode::kUnsupportedOp, "attribute broadcast=0 is not supported");
    if (init_status.is_ok() && fused) init_status = parse_activation(node, true, &activation_);
    const Tensor* b = info.constant_input(1);
    if (b && b->dtype() == DType::kFloat32 && b->rank() == 2) {
      const int64_t k = trans_b_ ? b->dim(1) : b->dim(0), n = trans_b_ ? b->dim(0) : b->dim(1);
      packed_b_ = PackedMatrix::pack_b(trans_b_, k, n, b->data<float>(), b->dim(1));
    }
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *a, *b;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Gemm", &a));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Gemm", &b));
    const Tensor* c = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    if (!is_float(a->dtype())) HS_FAIL(kType, "Gemm does not support dtype ", dtype_name(a->dtype()));
    if (b->dtype() != a->dtype() || (c && c->dtype() != a->dtype()))
      HS_FAIL(kType, "Gemm inputs must share A's dtype ", dtype_name(a->dtype()));
    if (a->rank() != 2 || b->rank() != 2) HS_FAIL(kShape, "Gemm needs 2-D A and B, got ", a->shape(), " and ", b->shape());
    const int64_t M = trans_a_ ? a->dim(1) : a->dim(0), K = trans_a_ ? a->dim(0) : a->dim(1);
    const int64_t N = trans_b_ ? b->dim(0) : b->dim(1);
    if ((trans_b_ ? b->dim(1) : b->dim(0)) != K)
      HS_FAIL(kShape, "Gemm A ", a->shape(), " and B ", b->shape(), " do not agree on K (transA=", trans_a_,
              ", transB=", trans_b_, ")");
    const Shape ys = {M, N};
    if (c) {
      Shape broadcast;
      if (c->rank() > 2 || !broadcast_shapes(c->shape(), ys, &broadcast).is_ok() || broadcast != ys)
        HS_FAIL(kShape, "Gemm C ", c->shape(), " does not broadcast to [", M, ",", N, "]");
    }
    Tensor* y = ctx.output(0, a->dtype(), ys);
    if (y->numel() == 0) return Status::ok();

    auto af = as_float32(*a);
    auto bf = as_float32(*b);
    auto cf = c ? as_float32(*c) : Result<Tensor>(Tensor());
    for (auto* r : {&af, &bf, &cf}) HS_RETURN_IF_ERROR(r->status());
    Tensor yf = y->dtype() == DType::kFloat32 ? *y : Tensor::empty(DType::kFloat32, ys);
    run_float(ctx, M, N, K, af.value(), bf.value(), cf.value(), &yf);
    return store_from_float32(yf, y);
  }

 private:
  void run_float(KernelContext& ctx, int64_t M, int64_t N, int64_t K, const Tensor& a, const Tensor& b,
                 const Tensor& c, Tensor* y) const {
    GemmEpilogue ep;
    ep.activation = activation_;
    float gemm_beta = 0.f;
    std::vector<float> scaled_bias;
    float* yd = y->data<float>();
    if (c.defined() && beta_ != 0.f) {
      const bool row_vector = c.numel() == N && (c.rank() == 1 || c.dim(0) == 1) && N > 1;
      if (row_vector) {
        ep.col_bias = c.data<float>();
        if (beta_ != 1.f) {
          scaled_bias.assign(c.data<float>(), c.data<float>() + N);
          for (float& v : scaled_bias) v *= beta_;
          ep.col_bias = scaled_bias.data();
        }
      } else {  // broadcast C into Y, then Y = alpha * AB + beta * Y
        const std::vector<int64_t> cs = broadcast_strides(c.shape(), {M, N});
        const float* cd = c.data<float>();
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) yd[m * N + n] = cd[m * cs[0] + n * cs[1]];
        gemm_beta = beta_;
      }
    }
    GemmOperand aop{a.data<float>(), a.dim(1), trans_a_};
    GemmOperand bop{b.data<float>(), b.dim(1), trans_b_};
    if (!packed_b_.empty() && packed_b_.rows() == K && packed_b_.cols() == N) bop.packed = &packed_b_;
    sgemm_ex(M, N, K, alpha_, aop, bop, gemm_beta, yd, N, ep, &ctx.pool());
  }

  bool trans_a_ = false, trans_b_ = false;
  float alpha_ = 1.f, beta_ = 1.f;
  Activation activation_;
  PackedMatrix packed_b_;  // op(B) packed at build time, when B is a 2-D float32 constant
};

struct Gemm : GemmKernel {
  explicit Gemm(const KernelInfo& info) : GemmKernel(info, false) {}
};
struct FusedGemm : GemmKernel {
  explicit FusedGemm(const KernelInfo& info) : GemmKernel(info, true) {}
};

}  // namespace

HS_REGISTER_KERNEL("", "Gemm", Gemm);
HS_REGISTER_KERNEL("hs", "FusedGemm", FusedGemm);

}  // namespace hs::cpu
