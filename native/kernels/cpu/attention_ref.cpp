// Reference attention in float32: for each query row, scores s_j = scale * q.k_j + bias_j over the
// keys the masks leave (causal: j <= i + seqlen_k - seqlen_q; padding: j < k_valid_len), then a
// max-subtracted softmax and the weighted sum of value rows, in two plain passes. Decode gathers
// each sequence's keys through its block table and does the same for one query row.
#include "kernels/cpu/attention_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hs::ref {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Status check_offsets(const std::vector<int32_t>& cu, int batch, const char* name) {
  HS_CHECK_ARG(cu.size() == size_t(batch) + 1, name, " must hold batch + 1 = ", batch + 1, " offsets, got ",
               cu.size());
  HS_CHECK_ARG(cu[0] == 0, name, "[0] must be 0, got ", cu[0]);
  for (int b = 0; b < batch; ++b)
    HS_CHECK_ARG(cu[b + 1] >= cu[b], name, " must not decrease (", name, "[", b + 1, "] = ", cu[b + 1], " < ", cu[b], ")");
  return Status::ok();
}

// One query row against `keys` key rows: writes head_dim outputs and returns the log-sum-exp.
// score(j) gives the masked, scaled, biased score (-inf when masked).
template <typename ScoreFn, typename ValueFn>
float attend_row(int keys, int head_dim, ScoreFn score, ValueFn value_row, std::vector<float>& scores, float* out) {
  scores.resize(size_t(std::max(keys, 0)));
  float max_score = kNegInf;
  for (int j = 0; j < keys; ++j) max_score = std::max(max_score, scores[j] = score(j));
  std::fill(out, out + head_dim, 0.f);
  if (max_score == kNegInf) return kNegInf;
  float sum = 0.f;
  for (int j = 0; j < keys; ++j) sum += scores[j] = std::exp(scores[j] - max_score);
  for (int j = 0; j < keys; ++j) {
    if (scores[j] == 0.f) continue;
    const float* v = value_row(j);
    const float w = scores[j] / sum;
    for (int d = 0; d < head_dim; ++d) out[d] += w * v[d];
  }
  return max_score + std::log(sum);
}

}  // namespace

Status check_prefill(const PrefillProblem& p, FloatSpan q, FloatSpan k, FloatSpan v, FloatSpan bias) {
  HS_CHECK_ARG(p.batch > 0, "batch must be positive, got ", p.batch);
  HS_CHECK_ARG(p.num_heads > 0 && p.num_kv_heads > 0, "numHeads and numKvHeads must be positive");
  HS_CHECK_ARG(p.num_heads % p.num_kv_heads == 0, "numKvHeads (", p.num_kv_heads, ") must divide numHeads (",
               p.num_heads, ")");
  HS_CHECK_ARG(p.head_dim > 0 && p.head_dim <= 256, "headDim must be in [1, 256], got ", p.head_dim);
  HS_CHECK_ARG(p.cu_seqlens_q.empty() == p.cu_seqlens_k.empty(), "give both cuSeqlensQ and cuSeqlensK or neither");
  if (p.cu_seqlens_q.empty()) {
    HS_CHECK_ARG(p.seqlen_q >= 0 && p.seqlen_k >= 0, "seqlenQ and seqlenK must be >= 0");
  } else {
    HS_RETURN_IF_ERROR(check_offsets(p.cu_seqlens_q, p.batch, "cuSeqlensQ"));
    HS_RETURN_IF_ERROR(check_offsets(p.cu_seqlens_k, p.batch, "cuSeqlensK"));
  }
  HS_CHECK_ARG(p.k_valid_lens.empty() || p.k_valid_lens.size() == size_t(p.batch), "kValidLens must hold batch = ",
               p.batch, " lengths, got ", p.k_valid_lens.size());
  HS_CHECK_ARG(std::isfinite(p.scale), "scale must be finite");
  const size_t q_size = size_t(p.total_q()) * p.num_heads * p.head_dim;
  const size_t kv_size = size_t(p.total_k()) * p.num_kv_heads * p.head_dim;
  HS_CHECK_ARG(q.data && q.size == q_size, "q must hold totalQ * numHeads * headDim = ", q_size, " values, got ", q.size);
  HS_CHECK_ARG(k.data && k.size == kv_size, "k must hold totalK * numKvHeads * headDim = ", kv_size, " values, got ",
               k.size);
  HS_CHECK_ARG(v.data && v.size == kv_size, "v must hold totalK * numKvHeads * headDim = ", kv_size, " values, got ",
               v.size);
  if (bias.data) {
    HS_CHECK_ARG(p.bias_batch_stride >= 0 && p.bias_head_stride >= 0 && p.bias_row_stride >= 0,
                 "bias strides must be >= 0");
    const int64_t last = int64_t(p.batch - 1) * p.bias_batch_stride + int64_t(p.num_heads - 1) * p.bias_head_stride +
                         int64_t(std::max(p.max_len_q() - 1, 0)) * p.bias_row_stride + std::max(p.max_len_k() - 1, 0);
    HS_CHECK_ARG(size_t(last) < bias.size, "bias strides address element ", last, " but bias holds ", bias.size,
                 " values");
  }
  return Status::ok();
}

Status prefill_reference(const PrefillProblem& p, FloatSpan q, FloatSpan k, FloatSpan v, FloatSpan bias,
                         std::vector<float>* out, std::vector<float>* lse) {
  HS_RETURN_IF_ERROR(check_prefill(p, q, k, v, bias));
  const int H = p.num_heads, D = p.head_dim, group = p.num_heads / p.num_kv_heads;
  const int total_q = p.total_q();
  out->assign(size_t(total_q) * H * D, 0.f);
  lse->assign(size_t(H) * total_q, kNegInf);
  std::vector<float> scores;
  for (int b = 0; b < p.batch; ++b) {
    const int q_start = p.cu_seqlens_q.empty() ? b * p.seqlen_q : p.cu_seqlens_q[b];
    const int q_len = p.cu_seqlens_q.empty() ? p.seqlen_q : p.cu_seqlens_q[b + 1] - q_start;
    const int k_start = p.cu_seqlens_k.empty() ? b * p.seqlen_k : p.cu_seqlens_k[b];
    const int k_len = p.cu_seqlens_k.empty() ? p.seqlen_k : p.cu_seqlens_k[b + 1] - k_start;
    const int k_valid = p.k_valid_lens.empty() ? k_len : std::clamp(p.k_valid_lens[b], 0, k_len);
    for (int h = 0; h < H; ++h) {
      const int kvh = h / group;
      for (int i = 0; i < q_len; ++i) {
        const float* q_row = q.data + (size_t(q_start + i) * H + h) * D;
        const int keys = p.causal ? std::min(k_valid, std::max(i + k_len - q_len + 1, 0)) : k_valid;
        auto score = [&](int j) {
          const float* k_row = k.data + (size_t(k_start + j) * p.num_kv_heads + kvh) * D;
          float dot = 0.f;
          for (int d = 0; d < D; ++d) dot += q_row[d] * k_row[d];
          float s = dot * p.scale;
          if (bias.data)
            s += bias.data[b * p.bias_batch_stride + h * p.bias_head_stride + i * p.bias_row_stride + j];
          return s;
        };
        auto value_row = [&](int j) { return v.data + (size_t(k_start + j) * p.num_kv_heads + kvh) * D; };
        (*lse)[size_t(h) * total_q + q_start + i] =
            attend_row(keys, D, score, value_row, scores, out->data() + (size_t(q_start + i) * H + h) * D);
      }
    }
  }
  return Status::ok();
}

Status check_decode(const DecodeProblem& p, FloatSpan q, FloatSpan k_cache, FloatSpan v_cache) {
  HS_CHECK_ARG(p.num_seqs > 0, "numSeqs must be positive, got ", p.num_seqs);
  HS_CHECK_ARG(p.num_heads > 0 && p.num_kv_heads > 0, "numHeads and numKvHeads must be positive");
  HS_CHECK_ARG(p.num_heads % p.num_kv_heads == 0, "numKvHeads (", p.num_kv_heads, ") must divide numHeads (",
               p.num_heads, ")");
  HS_CHECK_ARG(p.head_dim > 0 && p.head_dim % 8 == 0 && p.head_dim <= 256,
               "headDim must be a multiple of 8 in [8, 256], got ", p.head_dim);
  HS_CHECK_ARG(p.block_size > 0 && p.num_blocks > 0 && p.max_blocks_per_seq > 0,
               "blockSize, numBlocks and maxBlocksPerSeq must be positive");
  HS_CHECK_ARG(std::isfinite(p.scale), "scale must be finite");
  HS_CHECK_ARG(p.block_tables.size() == size_t(p.num_seqs) * p.max_blocks_per_seq,
               "blockTables must hold numSeqs * maxBlocksPerSeq = ", size_t(p.num_seqs) * p.max_blocks_per_seq,
               " entries, got ", p.block_tables.size());
  HS_CHECK_ARG(p.context_lens.size() == size_t(p.num_seqs), "contextLens must hold numSeqs = ", p.num_seqs,
               " lengths, got ", p.context_lens.size());
  for (int s = 0; s < p.num_seqs; ++s) {
    const int len = p.context_lens[s];
    HS_CHECK_ARG(len >= 0 && len <= p.max_blocks_per_seq * p.block_size, "contextLens[", s, "] = ", len,
                 " must be in [0, maxBlocksPerSeq * blockSize = ", p.max_blocks_per_seq * p.block_size, "]");
    for (int blk = 0; blk * p.block_size < len; ++blk) {
      const int32_t entry = p.block_tables[size_t(s) * p.max_blocks_per_seq + blk];
      HS_CHECK_ARG(entry >= 0 && entry < p.num_blocks, "blockTables[", s, "][", blk, "] = ", entry,
                   " is not a cache block in [0, ", p.num_blocks, ")");
    }
  }
  const size_t cache_size = size_t(p.num_blocks) * p.block_size * p.num_kv_heads * p.head_dim;
  HS_CHECK_ARG(q.data && q.size == size_t(p.num_seqs) * p.num_heads * p.head_dim,
               "q must hold numSeqs * numHeads * headDim values, got ", q.size);
  HS_CHECK_ARG(k_cache.data && k_cache.size == cache_size, "kCache must hold numBlocks * blockSize * numKvHeads * headDim = ",
               cache_size, " values, got ", k_cache.size);
  HS_CHECK_ARG(v_cache.data && v_cache.size == cache_size, "vCache must hold numBlocks * blockSize * numKvHeads * headDim = ",
               cache_size, " values, got ", v_cache.size);
  return Status::ok();
}

Status decode_reference(const DecodeProblem& p, FloatSpan q, FloatSpan k_cache, FloatSpan v_cache,
                        std::vector<float>* out) {
  HS_RETURN_IF_ERROR(check_decode(p, q, k_cache, v_cache));
  const int H = p.num_heads, D = p.head_dim, group = p.num_heads / p.num_kv_heads;
  out->assign(size_t(p.num_seqs) * H * D, 0.f);
  std::vector<float> scores;
  for (int s = 0; s < p.num_seqs; ++s) {
    const int32_t* table = p.block_tables.data() + size_t(s) * p.max_blocks_per_seq;
    auto cache_row = [&](const float* cache, int token, int kvh) {
      const size_t block = size_t(table[token / p.block_size]);
      return cache + ((block * p.block_size + token % p.block_size) * p.num_kv_heads + kvh) * D;
    };
    for (int h = 0; h < H; ++h) {
      const int kvh = h / group;
      const float* q_row = q.data + (size_t(s) * H + h) * D;
      auto score = [&](int j) {
        const float* k_row = cache_row(k_cache.data, j, kvh);
        float dot = 0.f;
        for (int d = 0; d < D; ++d) dot += q_row[d] * k_row[d];
        return dot * p.scale;
      };
      auto value_row = [&](int j) { return cache_row(v_cache.data, j, kvh); };
      attend_row(p.context_lens[s], D, score, value_row, scores, out->data() + (size_t(s) * H + h) * D);
    }
  }
  return Status::ok();
}

}  // namespace hs::ref
