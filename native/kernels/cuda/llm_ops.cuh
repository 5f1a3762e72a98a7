// The small kernels of the CUDA LLM decoder forward (native/backends/cuda/llm), between its GEMMs
// and attention kernels. Activations are float32 [tokens, features]; q, the KV cache and the
// attention output are 16-bit (AttnDType: float16 or bfloat16). Every launcher checks its sizes,
// returns ERR_INVALID_ARGUMENT for bad ones and the CUDA error of the launch otherwise, and runs
// asynchronously on `stream`. Index arrays (tokens, rows, slots, permutations) are device int32
// arrays that the caller has checked on the host; the kernels still skip an out-of-range index
// (writing NaN where an output row would otherwise be left stale) rather than read out of bounds.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hs/status.h"
#include "kernels/cuda/attention_types.h"

namespace hs::cuda {

// out[t, :] = float(table[tokens[t], :]) for t < tokens; table is [vocab, dim] 16-bit.
Status llm_embed(AttnDType dtype, const void* table, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n_tokens,
                 float* out, cudaStream_t stream);
// The same over an int8 table with a scale per row: out[t, :] = table[id, :] * row_scales[id].
Status llm_embed_int8(const int8_t* table, const float* row_scales, int64_t vocab, int64_t dim, const int32_t* tokens,
                      int64_t n_tokens, float* out, cudaStream_t stream);

// RMSNorm of selected rows: out[r, :] = x[i, :] / sqrt(mean(x[i, :]^2) + eps) * weight, where
// i = rows[r] (rows == nullptr: i = r), for r < n_rows. x has at least max(i) + 1 rows of `dim`.
Status llm_rms_norm(const float* x, const int32_t* rows, int64_t n_rows, int64_t x_rows, int64_t dim, const float* weight,
                    float eps, float* out, cudaStream_t stream);

// Splits the fused projection qkv [tokens, (heads + 2 * kv_heads) * head_dim] (q, then k, then v
// of each token), applies the rotary embedding to q and k (HF rotate_half convention: element i
// pairs with i + head_dim / 2; angle = float(position) * inv_freq[i], cos and sin multiplied by
// attention_scaling), rounds to 16-bit and stores:
//   q row of token t at q_out[perm[t]]           ([tokens, heads, head_dim])
//   k and v of token t at cache slot slots[t]    (k_cache, v_cache: [num_slots, kv_heads, head_dim],
//                                                  i.e. [num_blocks, block_size, kv_heads, head_dim])
struct RopeQkvArgs {
  AttnDType dtype = AttnDType::kBFloat16;
  const float* qkv = nullptr;
  const int32_t* positions = nullptr;
  const int32_t* slots = nullptr;
  const int32_t* perm = nullptr;
  const float* inv_freq = nullptr;  // [head_dim / 2]
  float attention_scaling = 1.f;
  int64_t n_tokens = 0;
  int heads = 0, kv_heads = 0, head_dim = 0;
  int64_t num_slots = 0;
  void* q_out = nullptr;
  void* k_cache = nullptr;
  void* v_cache = nullptr;
};
Status llm_rope_qkv(const RopeQkvArgs& args, cudaStream_t stream);

// Copies cache rows into contiguous K and V: k_out[r] = k_cache[slots[r]], v_out[r] = v_cache[slots[r]]
// for r < n_rows, each row `row_elems` 16-bit elements (kv_heads * head_dim, a multiple of 8).
Status llm_gather_kv(const void* k_cache, const void* v_cache, int64_t num_slots, int64_t row_elems, const int32_t* slots,
                     int64_t n_rows, void* k_out, void* v_out, cudaStream_t stream);

// out[t, :] = float(x[perm[t], :]) for t < n_rows, rows of `dim` 16-bit elements.
Status llm_unpermute_to_float(AttnDType dtype, const void* x, const int32_t* perm, int64_t n_rows, int64_t dim, float* out,
                              cudaStream_t stream);

// out[t, i] = silu(gu[t, i]) * gu[t, inter + i] for i < inter: gu is [tokens, 2 * inter] (gate then up).
Status llm_silu_mul(const float* gu, int64_t n_tokens, int64_t inter, float* out, cudaStream_t stream);

}  // namespace hs::cuda
