// LlmModel: a Llama / Qwen2 decoder on CPU with a paged KV cache it owns. The caller (the
// TypeScript scheduler) decides which tokens run together and which cache blocks they use; the
// model runs one forward over that batch and returns the logits it was asked for.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "hs/status.h"
#include "hs/thread_pool.h"
#include "llm_attention.h"
#include "llm_weights.h"

namespace hs::llm {

struct LlmConfig {
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t intermediate_size = 0;
  int64_t vocab_size = 0;
  float rms_norm_eps = 1e-6f;
  bool qkv_bias = false;              // Qwen2
  bool tie_word_embeddings = false;   // lm_head is embed_tokens
  std::vector<float> inv_freq;        // head_dim / 2 rotary frequencies, rope scaling applied
  float rope_attention_scaling = 1.f; // multiplies cos and sin
};

// kBFloat16: every projection (q, k, v, o, gate, up, down, lm_head) rounds its input rows to bf16
// and multiplies bf16 weights (converted at load, in the k-pair layout) with float32 accumulation
// (llm_linear_bf16.h); norms, RoPE, attention and sampling stay float32.
enum class MatmulPrecision { kFloat32, kBFloat16 };

struct LlmOptions {
  int threads = 0;                           // 0: all cores
  int64_t num_blocks = 0;                    // KV cache blocks
  int64_t block_size = 16;                   // tokens per block
  std::optional<WeightType> weight_type;     // unset: keep each tensor's stored type
  MatmulPrecision matmul_precision = MatmulPrecision::kFloat32;  // kBFloat16: weight_type unset or kBFloat16
};

// One forward: tokens of several sequences, each sequence's tokens contiguous and in order.
struct LlmBatch {
  std::vector<int32_t> tokens;          // [T] token ids
  std::vector<int32_t> positions;       // [T] position of each token in its sequence
  std::vector<int32_t> query_lens;      // [S] tokens of each sequence in this batch (sum = T)
  std::vector<int32_t> block_tables;    // [S, max_blocks] cache blocks of each sequence
  int64_t max_blocks = 0;
  std::vector<int32_t> logits_per_seq;  // [S] logits rows wanted: that many last tokens of the sequence
};

// The config checks every forward needs (positive sizes, whole KV-head groups, an even head_dim and
// its rotary table, finite eps); ERR_INVALID_MODEL otherwise. The CUDA model adds its own limits.
Status check_llm_config(const LlmConfig& config);

class LlmModel {
 public:
  // Checks every tensor against the config and builds the weights (see make_weight).
  static Result<std::shared_ptr<LlmModel>> create(const LlmConfig& config, const std::vector<RawTensor>& tensors,
                                                  const LlmOptions& options);

  // Runs the batch; `logits` receives sum(logits_per_seq) rows of vocab_size floats, sequence by
  // sequence. Forwards are serialised (they share the KV cache).
  Status forward(const LlmBatch& batch, std::vector<float>* logits);

  const LlmConfig& config() const { return config_; }
  int64_t num_blocks() const { return cache_->num_blocks(); }
  int64_t block_size() const { return cache_->block_size(); }
  size_t kv_cache_bytes() const { return cache_->bytes(); }
  size_t weight_bytes() const;
  int threads() const { return pool_->parallelism(); }
  // The weight type of the projection matrices ("float32", "bfloat16", "int8", ...).
  const char* weight_type() const { return weight_type_name(layers_.front().q.type); }
  MatmulPrecision matmul_precision() const { return matmul_precision_; }

 private:
  struct Layer {
    std::vector<float> input_norm, post_norm, q_bias, k_bias, v_bias;
    WeightMatrix q, k, v, o, gate, up, down;
  };
  Status check_batch(const LlmBatch& batch, TokenSlots* slots) const;

  LlmConfig config_;
  MatmulPrecision matmul_precision_ = MatmulPrecision::kFloat32;
  std::unique_ptr<ThreadPool> pool_;
  std::shared_ptr<PagedKvCache> cache_;
  WeightMatrix embed_, lm_head_;
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;
  std::mutex forward_mu_;
};

}  // namespace hs::llm
