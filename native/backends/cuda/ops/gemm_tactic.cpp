#include "backends/cuda/ops/gemm_tactic.h"

#include "backends/cuda/cublaslt.h"
#include "kernels/cuda/to_16bit.cuh"

namespace hs::cuda::ops {
namespace {

constexpr const char* kLt = "cublaslt";

// The one stride s with offset(item i) = i * s over the batch space (all-zero strides: 0), or false.
bool linear_batch_stride(const IndexSpace& space, const Strides& strides, int64_t* out) {
  int64_t s = 0, inner = 1;
  bool found = false;
  for (int d = space.rank - 1; d >= 0; --d) {
    if (space.dims[d] > 1) {
      if (!found) {
        if (strides.s[d] % inner) return false;
        s = strides.s[d] / inner;
        found = true;
      }
      if (strides.s[d] != s * inner) return false;
    }
    inner *= space.dims[d];
  }
  *out = s;
  return true;
}

// `g` as a cuBLASLt problem (A still float32), or false when it does not fit one.
bool as_lt(const GemmArgs& g, LtGemm* p) {
  // beta * D: only Gemm's C of one row with beta 1 (nn.Linear's bias), which is a bias epilogue.
  const bool d_is_bias = g.d && g.beta == 1.f && g.d_rs == 0 && g.d_cs == 1 && !g.bias;
  if (g.d && g.beta != 0.f && !d_is_bias) return false;
  if (g.b_elem == GemmElem::kI8) return false;  // scaled int8 weights are our kernels' alone
  if (g.a_cs == 1 && g.a_rs == g.K) p->a_trans = false;
  else if (g.a_rs == 1 && g.a_cs == g.M) p->a_trans = true;
  else return false;
  if (g.b_cs == 1 && g.b_rs == g.N) p->b_trans = false;
  else if (g.b_rs == 1 && g.b_cs == g.K) p->b_trans = true;
  else return false;
  if (g.c_rs != g.N) return false;
  p->M = g.M, p->N = g.N, p->K = g.K;
  p->a = g.a, p->b = g.b, p->c = g.c, p->ab = g.b_elem;
  p->alpha = g.alpha, p->bias = d_is_bias ? g.d : g.bias, p->act = g.ep.act;
  p->batch = 1;
  for (int i = 0; i < g.batch.rank; ++i) p->batch *= g.batch.dims[i];
  if (p->batch > 1) {
    if (!linear_batch_stride(g.batch, g.a_bs, &p->a_batch_stride)) return false;
    if (!linear_batch_stride(g.batch, g.b_bs, &p->b_batch_stride)) return false;
    p->c_batch_stride = g.c_bs;
  }
  return true;
}

}  // namespace

void GemmTactics::init(const CudaKernelInfo& info, bool lt_capable) {
  const bool half = info.precision == "fp16" || info.precision == "bf16";
  if (half) {
    weight_dtype_ = info.precision == "fp16" ? DType::kFloat16 : DType::kBFloat16;
    mma_ = info.precision == "fp16" ? MmaType::kF16 : MmaType::kBF16;
  }
  if (half && info.sm >= 80) {
    candidates_ = {gemm_kernel_name(GemmKernel::kTc64), gemm_kernel_name(GemmKernel::kTc128), gemm_kernel_name(GemmKernel::kTc16)};
    default_kernel_ = GemmKernel::kTc64;
  }
  candidates_.push_back(gemm_kernel_name(GemmKernel::kSimt));
  if (lt_capable && info.sm > 0 && cublaslt_available()) candidates_.push_back(kLt);
  kernel_ = default_kernel_;
  selected_ = candidates_[0];
}

Status GemmTactics::select(const std::string& name) {
  bool known = false;
  for (const std::string& c : candidates_) known |= c == name;
  if (!known) HS_FAIL(kInvalidArgument, "tactic '", name, "' is not a candidate of this node");
  selected_ = name;
  lt_ = name == kLt;
  kernel_ = default_kernel_;
  for (GemmKernel k : {GemmKernel::kSimt, GemmKernel::kTc64, GemmKernel::kTc128, GemmKernel::kTc16})
    if (name == gemm_kernel_name(k)) kernel_ = k;
  return Status::ok();
}

Status gemm_elem(const DeviceTensor* t, const char* what, GemmElem* out) {
  if (!t) HS_FAIL(kInvalidArgument, what, " is missing");
  switch (t->dtype) {
    case DType::kFloat32: *out = GemmElem::kF32; return Status::ok();
    case DType::kFloat16: *out = GemmElem::kF16; return Status::ok();
    case DType::kBFloat16: *out = GemmElem::kBF16; return Status::ok();
    default: HS_FAIL(kType, what, " must be float32 (or its 16-bit weight copy), got ", dtype_name(t->dtype));
  }
}

Status run_gemm(const GemmTactics& tactics, const GemmArgs& g, CudaKernelContext& ctx) {
  LtGemm lt;
  if (tactics.use_cublaslt() && g.a_elem == GemmElem::kF32 && as_lt(g, &lt)) {
    const bool round_a = lt.ab != GemmElem::kF32;
    const int64_t a_items = lt.a_batch_stride == 0 ? 1 : lt.batch;
    if (!round_a || lt.a_batch_stride == 0 || lt.a_batch_stride == g.M * g.K) {
      const size_t a_bytes = round_a ? (size_t)(a_items * g.M * g.K) * 2 : 0;
      const size_t a_offset = (kCublasLtWorkspace + 255) / 256 * 256;
      auto scratch = ctx.scratch(a_offset + a_bytes);
      if (!scratch.is_ok()) return scratch.status();
      if (round_a) lt.a = static_cast<char*>(scratch.value()) + a_offset;
      if (cublaslt_supports(lt)) {
        if (round_a)
          HS_RETURN_IF_ERROR(float_to_16bit(static_cast<const float*>(g.a), lt.ab, const_cast<void*>(lt.a),
                                            a_items * g.M * g.K, ctx.stream()));
        return cublaslt_matmul(lt, scratch.value(), ctx.stream());
      }
    }
  }
  return gemm(g, tactics.kernel(), tactics.mma(), ctx.stream());
}

}  // namespace hs::cuda::ops
