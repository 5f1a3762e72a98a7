// MatMul and hs:FusedMatMul (Y = act(A @ B + bias)), numpy semantics: 1-D operands are promoted
// to a row (A) or a column (B) and the added axis dropped from the result; batch axes broadcast.
//
// float32 goes through the packed GEMM (gemm.h): when B is a 2-D constant it is packed once at
// build time, and A's batch axes fold into the GEMM's rows (one big GEMM, threaded inside).
// Otherwise each batch item is one GEMM; many small ones run side by side on the pool. bias and
// the activation run in the GEMM epilogue. float16/bfloat16/float64 are computed in float32;
// integer types use a plain i-k-j loop (the inner loop vectorises).
#include <algorithm>
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/dense_dtype.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/matmul_shape.h"

namespace hs::cpu {
namespace {

template <typename T>
void matmul_integer_loop(const MatMulShape& s, const T* a, const T* b, T* y) {
  const int64_t items = shape_numel(s.batch);
  for (int64_t i = 0; i < items; ++i) {
    int64_t a_off, b_off;
    batch_offsets(s, i, &a_off, &b_off);
    const T* ai = a + a_off * s.M * s.K;
    const T* bi = b + b_off * s.K * s.N;
    T* yi = y + i * s.M * s.N;
    for (int64_t m = 0; m < s.M; ++m) {
      T* row = yi + m * s.N;
      for (int64_t n = 0; n < s.N; ++n) row[n] = T(0);
      for (int64_t k = 0; k < s.K; ++k) {
        const T av = ai[m * s.K + k];
        const T* brow = bi + k * s.N;
        for (int64_t n = 0; n < s.N; ++n) row[n] = T(row[n] + av * brow[n]);
      }
    }
  }
}

class MatMulKernel : public KernelBase {
 public:
  MatMulKernel(const KernelInfo& info, bool fused) : fused_(fused) {
    if (fused) init_status = parse_activation(info.node, true, &epilogue_activation_);
    const Tensor* b = info.constant_input(1);
    if (b && b->dtype() == DType::kFloat32 && b->rank() == 2)
      packed_b_ = PackedMatrix::pack_b(false, b->dim(0), b->dim(1), b->data<float>(), b->dim(1));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *a, *b;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "MatMul", &a));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "MatMul", &b));
    const Tensor* bias = fused_ && ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    if (a->dtype() != b->dtype() || (bias && bias->dtype() != a->dtype()))
      HS_FAIL(kType, "MatMul operands must share one dtype, got ", dtype_name(a->dtype()), " and ",
              dtype_name(b->dtype()));
    MatMulShape s;
    HS_RETURN_IF_ERROR(matmul_shape(a->shape(), b->shape(), &s));
    if (bias && (bias->rank() != 1 || bias->dim(0) != s.N))
      HS_FAIL(kShape, "FusedMatMul bias ", bias->shape(), " must be [", s.N, "]");
    Tensor* y = ctx.output(0, a->dtype(), s.out);
    if (y->numel() == 0) return Status::ok();

    if (is_float(a->dtype())) {
      auto af = as_float32(*a);
      auto bf = as_float32(*b);
      auto biasf = bias ? as_float32(*bias) : Result<Tensor>(Tensor());
      for (auto* r : {&af, &bf, &biasf}) HS_RETURN_IF_ERROR(r->status());
      Tensor yf = y->dtype() == DType::kFloat32 ? *y : Tensor::empty(DType::kFloat32, s.out);
      run_float(ctx, s, af.value(), bf.value(), biasf.value(), &yf);
      return store_from_float32(yf, y);
    }
    if (fused_) HS_FAIL(kType, "FusedMatMul does not support dtype ", dtype_name(a->dtype()));
    return dispatch(a->dtype(), kSignedInts | kUnsignedInts, "MatMul", [&](auto tag) -> Status {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T>) matmul_integer_loop<T>(s, a->data<T>(), b->data<T>(), y->data<T>());
      return Status::ok();
    });
  }

 private:
  void run_float(KernelContext& ctx, const MatMulShape& s, const Tensor& a, const Tensor& b, const Tensor& bias,
                 Tensor* y) const {
    GemmEpilogue ep;
    ep.col_bias = bias.defined() ? bias.data<float>() : nullptr;
    ep.activation = epilogue_activation_;
    const int64_t items = shape_numel(s.batch);
    const bool b_shared = std::all_of(s.b_strides.begin(), s.b_strides.end(), [](int64_t v) { return v == 0; });
    const bool use_packed = !packed_b_.empty() && b_shared && packed_b_.rows() == s.K && packed_b_.cols() == s.N;
    // A's items are consecutive when B is shared and A is not broadcast: fold them into rows.
    const bool a_dense = std::all_of(s.a_strides.begin(), s.a_strides.end(), [](int64_t v) { return v != 0; }) &&
                         a.numel() == items * s.M * s.K;
    if (b_shared && a_dense) {
      GemmOperand aop{a.data<float>(), s.K, false};
      GemmOperand bop{b.data<float>(), s.N, false};
      if (use_packed) bop.packed = &packed_b_;
      sgemm_ex(items * s.M, s.N, s.K, 1.f, aop, bop, 0.f, y->data<float>(), s.N, ep, &ctx.pool());
      return;
    }
    auto item = [&](int64_t i, ThreadPool* pool) {
      int64_t a_off, b_off;
      batch_offsets(s, i, &a_off, &b_off);
      GemmOperand aop{a.data<float>() + a_off * s.M * s.K, s.K, false};
      GemmOperand bop{b.data<float>() + b_off * s.K * s.N, s.N, false};
      if (use_packed) bop.packed = &packed_b_;
      sgemm_ex(s.M, s.N, s.K, 1.f, aop, bop, 0.f, y->data<float>() + i * s.M * s.N, s.N, ep, pool);
    };
    // Enough items to feed every thread: one single-threaded GEMM per item, side by side.
    if (items < ctx.pool().parallelism() && gemm_worth_threading(s.M, s.N, s.K)) {
      for (int64_t i = 0; i < items; ++i) item(i, &ctx.pool());
    } else {
      const int64_t grain = std::max<int64_t>(1, ((int64_t)1 << 16) / std::max<int64_t>(1, s.M * s.N * s.K));
      ctx.pool().parallel_for(items, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) item(i, nullptr);
      });
    }
  }

  bool fused_;
  Activation epilogue_activation_;
  PackedMatrix packed_b_;  // B packed at build time, when it is a 2-D float32 constant
};

struct MatMul : MatMulKernel {
  explicit MatMul(const KernelInfo& info) : MatMulKernel(info, false) {}
};
struct FusedMatMul : MatMulKernel {
  explicit FusedMatMul(const KernelInfo& info) : MatMulKernel(info, true) {}
};

}  // namespace

HS_REGISTER_KERNEL("", "MatMul", MatMul);
HS_REGISTER_KERNEL("hs", "FusedMatMul", FusedMatMul);

}  // namespace hs::cpu
