// hs:Attention, Y = softmax(scale * Q K^T + mask) V: what the builder makes of the attention
// MatMul-scale-mask-Softmax-MatMul chain (native/core/passes/fuse_attention.cpp).
//
// Shapes: Q [..., Sq, D]; K [..., Sk, D], or [..., D, Sk] with k_transposed = 1; V [..., Sk, Dv];
// mask (optional, additive) [..., Mr, Mc]. Exactly as the unfused chain: the leading dimensions
// of all four broadcast numpy-style, the mask's rows broadcast against Sq and its columns against
// Sk; Y is [..., max(Sq, Mr), Dv]. float16/bfloat16/float64 are computed in float32.
//
// Algorithm: tasks of (batch item, block of query rows) run in parallel on the pool. A task
// computes its block of scores S = scale * Q_blk K^T with sgemm into thread scratch, adds the
// mask rows, turns each row into probabilities with the vectorised softmax row kernel
// (row_kernels.h: max, exp(s - max) and its sum, scale), then writes Y_blk = P V with sgemm
// straight into the output. The scores of a block are never written to memory beyond that
// scratch, whose height keeps it near 256 KiB (in L2) when Sk is long.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/dense_dtype.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/row_kernels.h"

namespace hs::cpu {
namespace {

constexpr int64_t kScoresBlockFloats = 64 * 1024;
constexpr int64_t kMaxBlockRows = 128;

// One operand's leading ("batch") dimensions and the size of each matrix under them.
struct Operand {
  const float* data = nullptr;
  Shape batch;
  int64_t matrix = 0;  // elements per batch item
};

Operand split(const Tensor& t, int64_t matrix_rank) {
  Operand op;
  op.data = t.data<float>();
  const int64_t lead = std::max<int64_t>(t.rank() - matrix_rank, 0);
  op.batch.assign(t.shape().begin(), t.shape().begin() + lead);
  op.matrix = shape_numel(Shape(t.shape().begin() + lead, t.shape().end()));
  return op;
}

// Element offset of each batch item of `op` within the broadcast batch shape `out`.
std::vector<int64_t> batch_offsets(const Operand& op, const Shape& out) {
  const std::vector<int64_t> strides = broadcast_strides(op.batch, out);
  std::vector<int64_t> offsets((size_t)shape_numel(out));
  for (size_t item = 0; item < offsets.size(); ++item) {
    int64_t rest = (int64_t)item, offset = 0;
    for (size_t d = out.size(); d-- > 0;) {
      offset += (rest % out[d]) * strides[d];
      rest /= out[d];
    }
    offsets[item] = offset * op.matrix;
  }
  return offsets;
}

struct Problem {
  int64_t sq = 0, sq_out = 0, sk = 0, sk_out = 0, d = 0, dv = 0, mask_rows = 1, mask_cols = 1;
  float scale = 1.f;
  bool k_transposed = false;
  Operand q, k, v, mask;
  Shape batch;
};

class AttentionKernel : public KernelBase {
 public:
  explicit AttentionKernel(const KernelInfo& info) {
    const Attribute* scale = info.node.attr("scale");
    has_scale_ = scale != nullptr;
    scale_ = scale ? scale->f : 1.f;
    const int64_t kt = info.node.attr_int("k_transposed", 0);
    if (kt != 0 && kt != 1)
      init_status = Status(StatusCode::kInvalidModel, str_cat("attribute k_transposed=", kt, " must be 0 or 1"));
    k_transposed_ = kt == 1;
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor *q_in, *k_in, *v_in;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Attention", &q_in));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Attention", &k_in));
    HS_RETURN_IF_ERROR(require_input(ctx, 2, "Attention", &v_in));
    const Tensor* mask_in = ctx.num_inputs() > 3 ? ctx.input(3) : nullptr;
    for (const Tensor* t : {q_in, k_in, v_in, mask_in}) {
      if (t && t->dtype() != q_in->dtype())
        HS_FAIL(kType, "Attention inputs must share Q's dtype ", dtype_name(q_in->dtype()), ", got ", dtype_name(t->dtype()));
    }
    if (!is_float(q_in->dtype())) HS_FAIL(kType, "Attention does not support dtype ", dtype_name(q_in->dtype()));
    for (const Tensor* t : {q_in, k_in, v_in})
      if (t->rank() < 2) HS_FAIL(kShape, "Attention Q, K and V need rank >= 2, got ", t->shape());

    auto q = as_float32(*q_in);
    auto k = as_float32(*k_in);
    auto v = as_float32(*v_in);
    auto mask = mask_in ? as_float32(*mask_in) : Result<Tensor>(Tensor());
    for (auto* r : {&q, &k, &v, &mask}) HS_RETURN_IF_ERROR(r->status());
    Problem p;
    HS_RETURN_IF_ERROR(plan(q.value(), k.value(), v.value(), mask.value(), &p));

    Shape ys = p.batch;
    ys.push_back(p.sq_out);
    ys.push_back(p.dv);
    Tensor* y_out = ctx.output(0, q_in->dtype(), ys);
    if (y_out->numel() == 0) return Status::ok();
    Tensor y = y_out->dtype() == DType::kFloat32 ? *y_out : Tensor::empty(DType::kFloat32, ys);
    if (p.sk_out == 0) {  // softmax over no keys, times an empty V: zeros, as MatMul gives
      std::memset(y.raw(), 0, y.nbytes());
    } else {
      run(p, y.data<float>(), ctx.pool());
    }
    return store_from_float32(y, y_out);
  }

 private:
  Status plan(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, Problem* p) const {
    p->sq = q.dim(-2);
    p->d = q.dim(-1);
    p->sk = k_transposed_ ? k.dim(-1) : k.dim(-2);
    const int64_t k_depth = k_transposed_ ? k.dim(-2) : k.dim(-1);
    if (k_depth != p->d)
      HS_FAIL(kShape, "Attention Q ", q.shape(), " and K ", k.shape(), " (k_transposed=", (int)k_transposed_,
              ") do not agree on the head size");
    p->q = split(q, 2);
    p->k = split(k, 2);
    p->v = split(v, 2);
    if (mask.defined()) {
      p->mask = split(mask, std::min<int64_t>(mask.rank(), 2));
      p->mask_rows = mask.rank() >= 2 ? mask.dim(-2) : 1;
      p->mask_cols = mask.rank() >= 1 ? mask.dim(-1) : 1;
    }
    for (const Operand* op : {&p->q, &p->k, &p->v, &p->mask}) {
      Shape merged;  // broadcast_shapes must not write into one of its operands
      HS_RETURN_IF_ERROR(broadcast_shapes(p->batch, op->batch, &merged));
      p->batch = std::move(merged);
    }
    p->sq_out = p->mask_rows == 1 ? p->sq : p->sq == 1 || p->sq == p->mask_rows ? p->mask_rows : -1;
    p->sk_out = p->mask_cols == 1 ? p->sk : p->sk == 1 || p->sk == p->mask_cols ? p->mask_cols : -1;
    if (p->sq_out < 0 || p->sk_out < 0)
      HS_FAIL(kShape, "Attention mask ", mask.shape(), " does not broadcast to the scores [", p->sq, ",", p->sk, "]");
    if (v.dim(-2) != p->sk_out)
      HS_FAIL(kShape, "Attention V ", v.shape(), " must have ", p->sk_out, " rows (one per key)");
    p->dv = v.dim(-1);
    p->scale = has_scale_ ? scale_ : 1.f / std::sqrt((float)std::max<int64_t>(p->d, 1));
    p->k_transposed = k_transposed_;
    return Status::ok();
  }

  static void run(const Problem& p, float* y, ThreadPool& pool) {
    const std::vector<int64_t> q_off = batch_offsets(p.q, p.batch), k_off = batch_offsets(p.k, p.batch),
                               v_off = batch_offsets(p.v, p.batch);
    const std::vector<int64_t> mask_off = p.mask.data ? batch_offsets(p.mask, p.batch) : std::vector<int64_t>();
    const int64_t block = std::clamp<int64_t>(kScoresBlockFloats / p.sk_out, 1, kMaxBlockRows);
    const int64_t blocks = (p.sq_out + block - 1) / block;
    const int64_t items = shape_numel(p.batch);
    // With several row blocks per item, K^T and V are packed once per item rather than per block.
    std::vector<PackedMatrix> packed_k, packed_v;
    if (blocks > 1) {
      packed_k.resize((size_t)items);
      packed_v.resize((size_t)items);
      pool.parallel_for(items, 1, [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          packed_k[(size_t)item] = PackedMatrix::pack_b(!p.k_transposed, p.d, p.sk, p.k.data + k_off[(size_t)item],
                                                        p.k_transposed ? p.sk : p.d);
          packed_v[(size_t)item] = PackedMatrix::pack_b(false, p.sk_out, p.dv, p.v.data + v_off[(size_t)item], p.dv);
        }
      });
    }
    pool.parallel_for(items * blocks, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> scores((size_t)(block * p.sk_out)), probs(scores.size());
      for (int64_t task = begin; task < end; ++task) {
        const int64_t item = task / blocks, r0 = (task % blocks) * block;
        const int64_t rows = std::min(block, p.sq_out - r0);
        const float* mask = p.mask.data ? p.mask.data + mask_off[(size_t)item] : nullptr;
        GemmOperand k{p.k.data + k_off[(size_t)item], p.k_transposed ? p.sk : p.d, !p.k_transposed};
        GemmOperand v{p.v.data + v_off[(size_t)item], p.dv, false};
        if (blocks > 1) {
          k.packed = &packed_k[(size_t)item];
          v.packed = &packed_v[(size_t)item];
        }
        score_block(p, p.q.data + q_off[(size_t)item], k, mask, r0, rows, scores.data());
        for (int64_t r = 0; r < rows; ++r)
          row_kernels().softmax(scores.data() + r * p.sk_out, probs.data() + r * p.sk_out, p.sk_out);
        sgemm_ex(rows, p.dv, p.sk_out, 1.f, GemmOperand{probs.data(), p.sk_out, false}, v, 0.f,
                 y + item * p.sq_out * p.dv + r0 * p.dv, p.dv, GemmEpilogue{}, nullptr);
      }
    });
  }

  // scores[r][j] = scale * q[r0 + r] . k[j] + mask[r0 + r][j] for `rows` rows, [rows, sk_out].
  static void score_block(const Problem& p, const float* q, const GemmOperand& k, const float* mask, int64_t r0,
                          int64_t rows, float* scores) {
    const bool one_query = p.sq == 1 && p.sq_out > 1;  // the mask's rows broadcast Q's single row
    const int64_t computed = one_query ? 1 : rows;
    const GemmOperand q_rows{q + (one_query ? 0 : r0 * p.d), p.d, false};
    // With one key and several mask columns, the single score fills the row (computed into column 0).
    sgemm_ex(computed, p.sk, p.d, p.scale, q_rows, k, 0.f, scores, p.sk_out, GemmEpilogue{}, nullptr);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = scores + r * p.sk_out;
      if (r >= computed) std::memcpy(row, scores, (size_t)p.sk_out * sizeof(float));
      else if (p.sk < p.sk_out) std::fill(row + 1, row + p.sk_out, row[0]);
    }
    if (!mask) return;
    for (int64_t r = 0; r < rows; ++r) {
      float* row = scores + r * p.sk_out;
      const float* mask_row = mask + (p.mask_rows == 1 ? 0 : (r0 + r) * p.mask_cols);
      if (p.mask_cols == 1) {
        for (int64_t j = 0; j < p.sk_out; ++j) row[j] += mask_row[0];
      } else {
        for (int64_t j = 0; j < p.sk_out; ++j) row[j] += mask_row[j];
      }
    }
  }

  bool has_scale_ = false;
  float scale_ = 1.f;
  bool k_transposed_ = false;
};

}  // namespace

HS_REGISTER_KERNEL("hs", "Attention", AttentionKernel);

}  // namespace hs::cpu
