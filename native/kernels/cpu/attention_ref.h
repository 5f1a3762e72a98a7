// Float32 CPU references of the CUDA attention kernels (native/kernels/cuda/flash_attention.cu and
// paged_attention.cu), with the same layouts and masking rules (see kernels/cuda/attention_types.h),
// and the shape checks that every caller of either runs first.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hs/status.h"

namespace hs::ref {

struct FloatSpan {
  const float* data = nullptr;
  size_t size = 0;
};

// Prefill attention. With cu_seqlens_q/k (batch + 1 cumulative offsets each) lengths vary per
// sequence; when both are empty every sequence has seqlen_q queries and seqlen_k keys.
struct PrefillProblem {
  int batch = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int seqlen_q = 0;
  int seqlen_k = 0;
  std::vector<int32_t> cu_seqlens_q;
  std::vector<int32_t> cu_seqlens_k;
  std::vector<int32_t> k_valid_lens;  // empty: no key padding
  bool causal = false;
  float scale = 1.f;
  int64_t bias_batch_stride = 0;
  int64_t bias_head_stride = 0;
  int64_t bias_row_stride = 0;

  int total_q() const { return cu_seqlens_q.empty() ? batch * seqlen_q : cu_seqlens_q.back(); }
  int total_k() const { return cu_seqlens_k.empty() ? batch * seqlen_k : cu_seqlens_k.back(); }
  int max_len_q() const { return max_len(cu_seqlens_q, seqlen_q); }
  int max_len_k() const { return max_len(cu_seqlens_k, seqlen_k); }

 private:
  static int max_len(const std::vector<int32_t>& cu, int fixed) {
    if (cu.empty()) return fixed;
    int m = 0;
    for (size_t b = 0; b + 1 < cu.size(); ++b) m = cu[b + 1] - cu[b] > m ? cu[b + 1] - cu[b] : m;
    return m;
  }
};

// Checks the problem and that q/k/v (and bias, when given) hold exactly / at least the elements the
// shapes and strides address.
Status check_prefill(const PrefillProblem& problem, FloatSpan q, FloatSpan k, FloatSpan v, FloatSpan bias);

// out: [total_q, num_heads, head_dim]; lse: [num_heads, total_q] (natural log; -inf where a row sees
// no key, whose output row is zeros). bias.data may be null.
Status prefill_reference(const PrefillProblem& problem, FloatSpan q, FloatSpan k, FloatSpan v, FloatSpan bias,
                         std::vector<float>* out, std::vector<float>* lse);

// Decode attention over a paged cache (layouts in kernels/cuda/attention_types.h).
struct DecodeProblem {
  int num_seqs = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int block_size = 0;
  int num_blocks = 0;
  int max_blocks_per_seq = 0;
  std::vector<int32_t> block_tables;  // [num_seqs, max_blocks_per_seq]
  std::vector<int32_t> context_lens;  // [num_seqs]
  float scale = 1.f;

  int max_context_len() const {
    int m = 0;
    for (int32_t len : context_lens) m = len > m ? len : m;
    return m;
  }
};

// Checks the problem, the tensor sizes, and that every block-table entry a context uses names a
// cache block.
Status check_decode(const DecodeProblem& problem, FloatSpan q, FloatSpan k_cache, FloatSpan v_cache);

// out: [num_seqs, num_heads, head_dim].
Status decode_reference(const DecodeProblem& problem, FloatSpan q, FloatSpan k_cache, FloatSpan v_cache,
                        std::vector<float>* out);

}  // namespace hs::ref
