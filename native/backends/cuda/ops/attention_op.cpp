// hs:Attention (Y = softmax(scale * Q K^T + mask) V, built by the attention fusion) on CUDA.
// float32: the scores of every broadcast batch item go to arena scratch through the strided GEMM
// (K read in place, transposed or not), the mask is added inside the row softmax (in place), and a
// second GEMM writes Y. Broadcasting follows the CPU kernel (kernels/cpu/fused_attention.cpp):
// leading axes of Q, K, V and the mask broadcast; the mask's rows and columns broadcast against the
// scores, and a single query row or key column fills them (zero strides).
// With precision fp16/bf16, multi-head attention of [B, H, S, D] operands (Q, K, V of one head size,
// a mask whose columns are the keys) runs our FlashAttention kernel instead: Q, K, V and the mask
// are converted into its token-major [B, S, H, D] layout in scratch, and the output converted back
// (fp32 accumulation inside). Other shapes take the float32 path.
#include <cmath>

#include "backends/cuda/ops/op_common.h"
#include "kernels/cpu/common.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/movement.cuh"
#include "kernels/cuda/norm.cuh"

namespace hs::cuda::ops {
namespace {

// The leading axes of an operand whose last `matrix_rank` axes form its matrices.
Shape batch_of(const DeviceTensor& t, int64_t matrix_rank) {
  const int64_t lead = std::max<int64_t>(t.rank() - matrix_rank, 0);
  return Shape(t.shape.begin(), t.shape.begin() + lead);
}

// Element strides of an operand's items over the broadcast `batch`, `matrix` elements per item.
Strides item_strides(const Shape& own, const Shape& batch, int64_t matrix) {
  Strides s = broadcast_strides(own, batch);
  for (size_t d = 0; d < batch.size(); ++d) s.s[d] *= matrix;
  return s;
}

// Element strides of a contiguous [d0, d1, d2, d3] tensor read in the order `perm` of its axes.
Strides permuted(const Shape& shape, std::initializer_list<int> perm) {
  const Strides s = contiguous_strides(shape);
  Strides out;
  int d = 0;
  for (int p : perm) out.s[d++] = s.s[p];
  return out;
}

IndexSpace space4(int64_t a, int64_t b, int64_t c, int64_t d) {
  IndexSpace s;
  s.rank = 4;
  s.dims[0] = a, s.dims[1] = b, s.dims[2] = c, s.dims[3] = d;
  return s;
}

class Attention : public CudaKernelBase {
 public:
  explicit Attention(const CudaKernelInfo& info) {
    if (info.precision == "fp16") flash_dtype_ = DType::kFloat16;
    if (info.precision == "bf16") flash_dtype_ = DType::kBFloat16;
    const Attribute* scale = info.node.attr("scale");
    has_scale_ = scale != nullptr;
    scale_ = scale ? scale->f : 1.f;
    k_transposed_ = info.node.attr_int("k_transposed", 0) == 1;
    for (size_t i = 0; i < info.node.inputs.size() && init_status.is_ok(); ++i)
      if (info.has_input(i)) init_status = require_dtype(info, i, {DType::kFloat32});
  }

  Status compute(CudaKernelContext& ctx) const override {
    const DeviceTensor* q = ctx.input(0);
    const DeviceTensor* k = ctx.input(1);
    const DeviceTensor* v = ctx.input(2);
    const DeviceTensor* mask = ctx.num_inputs() > 3 ? ctx.input(3) : nullptr;
    HS_RETURN_IF_ERROR(check_dtype(q, DType::kFloat32, "Q"));
    HS_RETURN_IF_ERROR(check_dtype(k, DType::kFloat32, "K"));
    HS_RETURN_IF_ERROR(check_dtype(v, DType::kFloat32, "V"));
    if (mask) HS_RETURN_IF_ERROR(check_dtype(mask, DType::kFloat32, "mask"));
    if (q->rank() < 2 || k->rank() < 2 || v->rank() < 2) HS_FAIL(kShape, "Attention Q, K and V need rank >= 2");
    const int64_t sq = q->shape.end()[-2], d = q->shape.back();
    const int64_t sk = k_transposed_ ? k->shape.back() : k->shape.end()[-2];
    if ((k_transposed_ ? k->shape.end()[-2] : k->shape.back()) != d)
      HS_FAIL(kShape, "Attention Q ", q->shape, " and K ", k->shape, " do not agree on the head size");
    const int64_t mask_rows = mask && mask->rank() >= 2 ? mask->shape.end()[-2] : 1;
    const int64_t mask_cols = mask && mask->rank() >= 1 ? mask->shape.back() : 1;
    const Shape qb = batch_of(*q, 2), kb = batch_of(*k, 2), vb = batch_of(*v, 2);
    const Shape mb = mask ? batch_of(*mask, 2) : Shape{};
    Shape batch;
    for (const Shape* s : {&qb, &kb, &vb, &mb}) {
      Shape merged;
      HS_RETURN_IF_ERROR(cpu::broadcast_shapes(batch, *s, &merged));
      batch = std::move(merged);
    }
    if (batch.size() + 1 > (size_t)kMaxDims) HS_FAIL(kShape, "Attention has more batch axes than the CUDA kernels take");
    const int64_t sq_out = mask_rows == 1 ? sq : (sq == 1 || sq == mask_rows) ? mask_rows : -1;
    const int64_t sk_out = mask_cols == 1 ? sk : (sk == 1 || sk == mask_cols) ? mask_cols : -1;
    if (sq_out < 0 || sk_out < 0) HS_FAIL(kShape, "Attention mask ", mask->shape, " does not broadcast to the scores");
    if (v->shape.end()[-2] != sk_out) HS_FAIL(kShape, "Attention V ", v->shape, " must have ", sk_out, " rows");
    const int64_t dv = v->shape.back();
    Shape ys = batch;
    ys.push_back(sq_out);
    ys.push_back(dv);
    auto y = ctx.output(0, DType::kFloat32, ys);
    if (!y.is_ok()) return y.status();
    const int64_t items = shape_numel(batch);
    if (y.value()->numel() == 0) return Status::ok();
    if (sk_out == 0) {  // softmax over no keys times an empty V: zeros, as the MatMuls give
      HS_CUDA_CHECK(cudaMemsetAsync(y.value()->data, 0, y.value()->nbytes(), ctx.stream()));
      return Status::ok();
    }
    const float scale = has_scale_ ? scale_ : 1.f / std::sqrt((float)std::max<int64_t>(d, 1));
    if (flash_dtype_ != DType::kUndefined && q->rank() == 4 && qb == kb && qb == vb && batch == qb && dv == d && d <= 256 &&
        sq_out == sq && sk_out == sk && (!mask || (mask->rank() <= 4 && mask_cols == sk)) && sq > 0 && sk > 0)
      return flash(ctx, *q, *k, mask, *v, scale, y.value());
    auto scores = ctx.scratch((size_t)(items * sq_out * sk_out) * sizeof(float));
    if (!scores.is_ok()) return scores.status();
    float* s = static_cast<float*>(scores.value());

    GemmArgs g1;  // S = scale * Q K^T
    g1.M = sq_out, g1.N = sk_out, g1.K = d;
    g1.alpha = scale;
    g1.a = q->as<float>(), g1.a_rs = sq == 1 && sq_out > 1 ? 0 : d, g1.a_cs = 1;
    const bool one_key = sk == 1 && sk_out > 1;
    g1.b = k->as<float>();
    if (k_transposed_) g1.b_rs = sk, g1.b_cs = one_key ? 0 : 1;
    else g1.b_rs = 1, g1.b_cs = one_key ? 0 : d;
    g1.c = s, g1.c_rs = sk_out, g1.c_bs = sq_out * sk_out;
    HS_RETURN_IF_ERROR(index_space(batch, &g1.batch));
    g1.a_bs = item_strides(qb, batch, sq * d);
    g1.b_bs = item_strides(kb, batch, sk * d);
    HS_RETURN_IF_ERROR(gemm_f32(g1, ctx.stream()));

    RowMask m;  // row r of the scores is (batch item, query i)
    if (mask) {
      m.data = mask->as<float>();
      HS_RETURN_IF_ERROR(index_space(batch, &m.rows));
      m.rows.dims[m.rows.rank] = sq_out;
      m.row_strides = item_strides(mb, batch, mask_rows * mask_cols);
      m.row_strides.s[m.rows.rank++] = mask_rows == 1 ? 0 : mask_cols;
      m.col_stride = mask_cols == 1 ? 0 : 1;
    }
    HS_RETURN_IF_ERROR(softmax_rows_f32(s, s, items * sq_out, sk_out, false, 1.f, m, ctx.stream()));

    GemmArgs g2;  // Y = P V
    g2.M = sq_out, g2.N = dv, g2.K = sk_out;
    g2.a = s, g2.a_rs = sk_out, g2.a_cs = 1;
    g2.b = v->as<float>(), g2.b_rs = dv, g2.b_cs = 1;
    g2.c = y.value()->as<float>(), g2.c_rs = dv, g2.c_bs = sq_out * dv;
    g2.batch = g1.batch;
    g2.a_bs = item_strides(batch, batch, sq_out * sk_out);
    g2.b_bs = item_strides(vb, batch, sk_out * dv);
    return gemm_f32(g2, ctx.stream());
  }

 private:
  // FlashAttention over [B, H, S, D] Q, K (or K^T), V and a mask of rank <= 4 broadcasting to
  // [B, H, Sq, Sk] with Sk columns (checked by the caller).
  Status flash(CudaKernelContext& ctx, const DeviceTensor& q, const DeviceTensor& k, const DeviceTensor* mask,
               const DeviceTensor& v, float scale, DeviceTensor* y) const {
    const int64_t B = q.shape[0], H = q.shape[1], sq = q.shape[2], D = q.shape[3];
    const int64_t sk = k_transposed_ ? k.shape[3] : k.shape[2];
    if (B > 65535 || H > 65535 || sq > 0x7fffffff || sk > 0x7fffffff)
      HS_FAIL(kShape, "Attention of ", q.shape, " exceeds FlashAttention's grid");
    const size_t half = 2;  // bytes per fp16/bf16 element
    auto q16 = ctx.scratch((size_t)q.numel() * half);
    auto k16 = ctx.scratch((size_t)(B * sk * H * D) * half);
    auto v16 = ctx.scratch((size_t)v.numel() * half);
    auto o16 = ctx.scratch((size_t)y->numel() * half);
    for (auto* r : {&q16, &k16, &v16, &o16}) if (!r->is_ok()) return r->status();
    cudaStream_t stream = ctx.stream();
    // [B, H, S, D] -> token-major [B, S, H, D]
    HS_RETURN_IF_ERROR(strided_convert(DType::kFloat32, q.data, permuted(q.shape, {0, 2, 1, 3}), flash_dtype_,
                                       q16.value(), space4(B, sq, H, D), stream));
    const Strides k_strides = k_transposed_ ? permuted(k.shape, {0, 3, 1, 2}) : permuted(k.shape, {0, 2, 1, 3});
    HS_RETURN_IF_ERROR(strided_convert(DType::kFloat32, k.data, k_strides, flash_dtype_, k16.value(),
                                       space4(B, sk, H, D), stream));
    HS_RETURN_IF_ERROR(strided_convert(DType::kFloat32, v.data, permuted(v.shape, {0, 2, 1, 3}), flash_dtype_,
                                       v16.value(), space4(B, sk, H, D), stream));
    PrefillArgs a;
    a.dtype = flash_dtype_ == DType::kFloat16 ? AttnDType::kFloat16 : AttnDType::kBFloat16;
    a.q = q16.value(), a.k = k16.value(), a.v = v16.value(), a.out = o16.value();
    a.batch = (int)B, a.num_heads = (int)H, a.num_kv_heads = (int)H, a.head_dim = (int)D;
    a.max_seqlen_q = (int)sq, a.max_seqlen_k = (int)sk, a.scale = scale;
    if (mask) {  // the mask keeps its own layout, converted; broadcast axes get zero strides
      Shape m(4 - (size_t)mask->rank(), 1);
      m.insert(m.end(), mask->shape.begin(), mask->shape.end());
      auto m16 = ctx.scratch((size_t)mask->numel() * half);
      if (!m16.is_ok()) return m16.status();
      IndexSpace flat;
      flat.rank = 1, flat.dims[0] = mask->numel();
      Strides unit;
      unit.s[0] = 1;
      HS_RETURN_IF_ERROR(strided_convert(DType::kFloat32, mask->data, unit, flash_dtype_, m16.value(), flat, stream));
      a.bias = m16.value();
      a.bias_batch_stride = m[0] == 1 ? 0 : m[1] * m[2] * m[3];
      a.bias_head_stride = m[1] == 1 ? 0 : m[2] * m[3];
      a.bias_row_stride = m[2] == 1 ? 0 : m[3];
    }
    HS_RETURN_IF_ERROR(flash_attention_prefill(a, stream));
    // [B, Sq, H, D] -> [B, H, Sq, D]
    return strided_convert(flash_dtype_, o16.value(), permuted({B, sq, H, D}, {0, 2, 1, 3}), DType::kFloat32, y->data,
                           space4(B, H, sq, D), stream);
  }

  bool has_scale_ = false, k_transposed_ = false;
  float scale_ = 1.f;
  DType flash_dtype_ = DType::kUndefined;  // fp16 / bf16 when the engine's precision allows FlashAttention
};

}  // namespace

HS_REGISTER_CUDA_KERNEL("hs", "Attention", Attention);

}  // namespace hs::cuda::ops
