// Shapes and options shared by the CUDA attention launchers (prefill and paged decode). Plain C++:
// the N-API binding and the C ABI include it without CUDA headers. The launchers check every size and
// pointer they are given; the contents of device arrays (cu_seqlens, k_valid_lens, block tables,
// context lengths) cannot be read from the host and are the caller's to keep consistent (the test
// binding checks them on the host with ref::check_prefill / ref::check_decode first).
#pragma once
#include <cstdint>

namespace hs::cuda {

enum class AttnDType : int { kFloat16 = 0, kBFloat16 = 1 };

// Prefill (multi-token) attention, flash_attn_varlen conventions.
//  q, out : [total_q, num_heads, head_dim]      (rows of one sequence are consecutive)
//  k, v   : [total_k, num_kv_heads, head_dim]   (num_heads % num_kv_heads == 0: MHA, GQA, MQA)
//  lse    : [num_heads, total_q] float32, natural log of the softmax denominator; -inf for a row
//           that sees no key (its output row is zeros). Optional.
// Sequences: with cu_seqlens_q/k (device int32 [batch + 1], cumulative offsets) lengths vary;
// without them every sequence has max_seqlen_q queries and max_seqlen_k keys.
// Masks: causal aligns the last query with the last key (query i of a sequence sees keys
// j <= i + seqlen_k - seqlen_q); k_valid_lens (device int32 [batch], optional) masks keys at or past
// k_valid_lens[b] (key padding); bias (same dtype as q, optional) is added to the scaled scores:
// bias[b * bias_batch_stride + h * bias_head_stride + i * bias_row_stride + j], local positions i, j;
// a stride of 0 broadcasts.
struct PrefillArgs {
  AttnDType dtype = AttnDType::kFloat16;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  float* lse = nullptr;
  const int32_t* cu_seqlens_q = nullptr;
  const int32_t* cu_seqlens_k = nullptr;
  const int32_t* k_valid_lens = nullptr;
  const void* bias = nullptr;
  int64_t bias_batch_stride = 0;
  int64_t bias_head_stride = 0;
  int64_t bias_row_stride = 0;
  int batch = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int max_seqlen_q = 0;
  int max_seqlen_k = 0;
  float scale = 0.f;
  bool causal = false;
};

// Decode attention: one query token per sequence over a paged KV cache.
//  q, out        : [num_seqs, num_heads, head_dim]
//  k/v_cache     : [num_blocks, block_size, num_kv_heads, head_dim]
//  block_tables  : device int32 [num_seqs, max_blocks_per_seq]; entry b holds the cache block of the
//                  sequence's tokens [b * block_size, (b + 1) * block_size)
//  context_lens  : device int32 [num_seqs]; 0 gives a zero output row
//  workspace     : device scratch of paged_attention_workspace_size(args) bytes (split-K partials)
struct DecodeArgs {
  AttnDType dtype = AttnDType::kFloat16;
  const void* q = nullptr;
  const void* k_cache = nullptr;
  const void* v_cache = nullptr;
  void* out = nullptr;
  const int32_t* block_tables = nullptr;
  const int32_t* context_lens = nullptr;
  void* workspace = nullptr;
  int num_seqs = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int block_size = 0;
  int num_blocks = 0;
  int max_blocks_per_seq = 0;
  int max_context_len = 0;  // an upper bound of context_lens; sizes the split-K grid
  float scale = 0.f;
};

}  // namespace hs::cuda
