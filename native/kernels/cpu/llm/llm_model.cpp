// The decoder forward: embed -> for each layer [RMSNorm -> Q,K,V (+bias) -> RoPE -> write K,V to
// the paged cache -> paged causal attention -> O + residual -> RMSNorm -> gate, up -> SwiGLU ->
// down + residual] -> final RMSNorm on the rows whose logits were asked for -> lm_head.
// Activations are float32 [tokens, features]; all matrices go through linear().
#include "llm_model.h"

#include <algorithm>
#include <cmath>

#include "llm_layers.h"
#include "llm_linear.h"

namespace hs::llm {

Status check_llm_config(const LlmConfig& c) {
  if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.num_kv_heads <= 0 || c.head_dim <= 0 ||
      c.intermediate_size <= 0 || c.vocab_size <= 0)
    HS_FAIL(kInvalidModel, "config sizes must be positive (hidden_size ", c.hidden_size, ", num_hidden_layers ",
            c.num_layers, ", num_attention_heads ", c.num_heads, ", num_key_value_heads ", c.num_kv_heads, ", head_dim ",
            c.head_dim, ", intermediate_size ", c.intermediate_size, ", vocab_size ", c.vocab_size, ")");
  if (c.num_heads % c.num_kv_heads != 0)
    HS_FAIL(kInvalidModel, "num_attention_heads ", c.num_heads, " is not a multiple of num_key_value_heads ", c.num_kv_heads);
  if (c.head_dim % 2 != 0) HS_FAIL(kInvalidModel, "head_dim ", c.head_dim, " must be even for rotary embeddings");
  if ((int64_t)c.inv_freq.size() != c.head_dim / 2)
    HS_FAIL(kInvalidArgument, "inv_freq has ", c.inv_freq.size(), " entries, expected head_dim / 2 = ", c.head_dim / 2);
  if (!std::isfinite(c.rms_norm_eps) || c.rms_norm_eps < 0.f || !std::isfinite(c.rope_attention_scaling))
    HS_FAIL(kInvalidModel, "rms_norm_eps and the rope attention scaling must be finite");
  return Status::ok();
}

namespace {

class TensorTable {
 public:
  explicit TensorTable(const std::vector<RawTensor>& tensors) : raw_(tensors) {}

  Status matrix(const std::string& name, int64_t rows, int64_t cols, std::optional<WeightType> type, WeightMatrix* out) const {
    const RawTensor* raw = nullptr;
    HS_RETURN_IF_ERROR(raw_.find(name, {rows, cols}, &raw));
    Result<WeightMatrix> w = make_weight(*raw, type ? *type : stored_type(raw->dtype));
    if (!w.is_ok()) return w.status();
    *out = w.take();
    return Status::ok();
  }

  Status vector(const std::string& name, int64_t size, std::vector<float>* out) const {
    const RawTensor* raw = nullptr;
    HS_RETURN_IF_ERROR(raw_.find(name, {size}, &raw));
    Result<std::vector<float>> v = make_vector(*raw);
    if (!v.is_ok()) return v.status();
    *out = v.take();
    return Status::ok();
  }

 private:
  static WeightType stored_type(DType d) {
    return d == DType::kFloat16 ? WeightType::kFloat16 : d == DType::kBFloat16 ? WeightType::kBFloat16 : WeightType::kFloat32;
  }
  RawTensorTable raw_;
};

}  // namespace

Result<std::shared_ptr<LlmModel>> LlmModel::create(const LlmConfig& config, const std::vector<RawTensor>& tensors,
                                                    const LlmOptions& options) {
  HS_RETURN_IF_ERROR(check_llm_config(config));
  std::shared_ptr<LlmModel> model(new LlmModel());
  model->config_ = config;
  const LlmConfig& c = model->config_;
  const TensorTable table(tensors);
  const std::optional<WeightType> type = options.weight_type;
  model->matmul_precision_ = options.matmul_precision;
  const bool bf16 = options.matmul_precision == MatmulPrecision::kBFloat16;
  if (bf16 && type && *type != WeightType::kBFloat16)
    HS_FAIL(kInvalidArgument, "matmulPrecision 'bf16' multiplies bfloat16 weights; it cannot be combined with weightType '",
            weight_type_name(*type), "' (leave weightType unset or 'bfloat16'; int8 weights keep their float32 path)");
  // The projections' weights; an untied embedding table is only looked up and keeps `type`.
  const std::optional<WeightType> proj = bf16 ? std::optional<WeightType>(WeightType::kBFloat16Pairs) : type;
  const int64_t q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;

  HS_RETURN_IF_ERROR(table.matrix("model.embed_tokens.weight", c.vocab_size, c.hidden_size,
                                  c.tie_word_embeddings ? proj : type, &model->embed_));
  HS_RETURN_IF_ERROR(table.vector("model.norm.weight", c.hidden_size, &model->final_norm_));
  if (c.tie_word_embeddings) {
    model->lm_head_ = model->embed_;
  } else {
    HS_RETURN_IF_ERROR(table.matrix("lm_head.weight", c.vocab_size, c.hidden_size, proj, &model->lm_head_));
  }
  // Layers are added as their tensors load: a num_hidden_layers past the checkpoint's fails on the
  // first missing tensor instead of allocating that many layers.
  for (int64_t l = 0; l < c.num_layers; ++l) {
    Layer& layer = model->layers_.emplace_back();
    const std::string p = str_cat("model.layers.", l, ".");
    HS_RETURN_IF_ERROR(table.vector(p + "input_layernorm.weight", c.hidden_size, &layer.input_norm));
    HS_RETURN_IF_ERROR(table.vector(p + "post_attention_layernorm.weight", c.hidden_size, &layer.post_norm));
    HS_RETURN_IF_ERROR(table.matrix(p + "self_attn.q_proj.weight", q_dim, c.hidden_size, proj, &layer.q));
    HS_RETURN_IF_ERROR(table.matrix(p + "self_attn.k_proj.weight", kv_dim, c.hidden_size, proj, &layer.k));
    HS_RETURN_IF_ERROR(table.matrix(p + "self_attn.v_proj.weight", kv_dim, c.hidden_size, proj, &layer.v));
    HS_RETURN_IF_ERROR(table.matrix(p + "self_attn.o_proj.weight", c.hidden_size, q_dim, proj, &layer.o));
    if (c.qkv_bias) {
      HS_RETURN_IF_ERROR(table.vector(p + "self_attn.q_proj.bias", q_dim, &layer.q_bias));
      HS_RETURN_IF_ERROR(table.vector(p + "self_attn.k_proj.bias", kv_dim, &layer.k_bias));
      HS_RETURN_IF_ERROR(table.vector(p + "self_attn.v_proj.bias", kv_dim, &layer.v_bias));
    }
    HS_RETURN_IF_ERROR(table.matrix(p + "mlp.gate_proj.weight", c.intermediate_size, c.hidden_size, proj, &layer.gate));
    HS_RETURN_IF_ERROR(table.matrix(p + "mlp.up_proj.weight", c.intermediate_size, c.hidden_size, proj, &layer.up));
    HS_RETURN_IF_ERROR(table.matrix(p + "mlp.down_proj.weight", c.hidden_size, c.intermediate_size, proj, &layer.down));
  }
  Result<std::shared_ptr<PagedKvCache>> cache =
      PagedKvCache::create(c.num_layers, options.num_blocks, options.block_size, c.num_kv_heads, c.head_dim);
  if (!cache.is_ok()) return cache.status();
  model->cache_ = cache.take();
  // A decode step is ~10 parallel_for calls per layer, tens of microseconds each; workers that
  // block between them lose a futex wake-up per call. 500 us also bridges the gap between steps.
  constexpr int kSpinUs = 500;
  model->pool_ = std::make_unique<ThreadPool>(options.threads > 0 ? options.threads : ThreadPool::default_threads(), kSpinUs);
  return model;
}

size_t LlmModel::weight_bytes() const {
  size_t total = embed_.bytes() + final_norm_.size() * sizeof(float);
  if (!config_.tie_word_embeddings) total += lm_head_.bytes();
  for (const Layer& l : layers_)
    total += l.q.bytes() + l.k.bytes() + l.v.bytes() + l.o.bytes() + l.gate.bytes() + l.up.bytes() + l.down.bytes() +
             (l.input_norm.size() + l.post_norm.size() + l.q_bias.size() + l.k_bias.size() + l.v_bias.size()) * sizeof(float);
  return total;
}

Status LlmModel::check_batch(const LlmBatch& b, TokenSlots* slots) const {
  const size_t tokens = b.tokens.size(), seqs = b.query_lens.size();
  HS_CHECK_ARG(tokens > 0, "forward: the batch has no tokens");
  HS_CHECK_ARG(b.positions.size() == tokens, "forward: positions has ", b.positions.size(), " entries for ", tokens, " tokens");
  HS_CHECK_ARG(b.logits_per_seq.size() == seqs, "forward: logitsPerSeq has ", b.logits_per_seq.size(), " entries for ",
               seqs, " sequences");
  HS_CHECK_ARG(b.max_blocks > 0 && b.block_tables.size() == seqs * (size_t)b.max_blocks, "forward: blockTables has ",
               b.block_tables.size(), " entries, expected ", seqs, " sequences x ", b.max_blocks, " blocks");
  const int64_t bs = cache_->block_size();
  slots->positions = b.positions.data();
  slots->block_tables = b.block_tables.data();
  slots->max_blocks = b.max_blocks;
  slots->slots.resize(tokens);
  slots->seq_of_token.resize(tokens);
  size_t t = 0;
  for (size_t s = 0; s < seqs; ++s) {
    const int32_t len = b.query_lens[s];
    HS_CHECK_ARG(len > 0 && t + (size_t)len <= tokens, "forward: queryLens[", s, "] = ", len, " does not fit ", tokens, " tokens");
    HS_CHECK_ARG(b.logits_per_seq[s] >= 0 && b.logits_per_seq[s] <= len, "forward: logitsPerSeq[", s, "] = ",
                 b.logits_per_seq[s], " is outside [0, ", len, "]");
    const int32_t* table = b.block_tables.data() + s * (size_t)b.max_blocks;
    int64_t max_pos = 0;
    for (int32_t i = 0; i < len; ++i, ++t) {
      const int32_t id = b.tokens[t], pos = b.positions[t];
      HS_CHECK_ARG(id >= 0 && id < config_.vocab_size, "forward: token id ", id, " is outside the vocabulary [0, ",
                   config_.vocab_size, ")");
      HS_CHECK_ARG(pos >= 0 && pos / bs < b.max_blocks, "forward: position ", pos, " of sequence ", s,
                   " does not fit its block table of ", b.max_blocks, " blocks");
      max_pos = std::max<int64_t>(max_pos, pos);
      slots->slots[t] = (int64_t)table[pos / bs] * bs + pos % bs;
      slots->seq_of_token[t] = (int32_t)s;
    }
    for (int64_t blk = 0; blk <= max_pos / bs; ++blk)
      HS_CHECK_ARG(table[blk] >= 0 && table[blk] < cache_->num_blocks(), "forward: block table of sequence ", s,
                   " names block ", table[blk], " at index ", blk, "; the cache has ", cache_->num_blocks(), " blocks");
  }
  HS_CHECK_ARG(t == tokens, "forward: queryLens sum to ", t, " but the batch has ", tokens, " tokens");
  return Status::ok();
}

Status LlmModel::forward(const LlmBatch& batch, std::vector<float>* logits) {
  std::lock_guard<std::mutex> lock(forward_mu_);
  TokenSlots slots;
  HS_RETURN_IF_ERROR(check_batch(batch, &slots));
  const LlmConfig& c = config_;
  ThreadPool& pool = *pool_;
  const int64_t T = (int64_t)batch.tokens.size(), H = c.hidden_size, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;

  std::vector<float> hidden((size_t)(T * H)), normed((size_t)(T * H)), proj((size_t)(T * H));
  std::vector<float> q((size_t)(T * q_dim)), k((size_t)(T * kv_dim)), v((size_t)(T * kv_dim)), attn((size_t)(T * q_dim));
  std::vector<float> gate((size_t)(T * I)), up((size_t)(T * I));
  for (int64_t t = 0; t < T; ++t) embed_.row_to_float(batch.tokens[(size_t)t], hidden.data() + t * H);

  for (int64_t l = 0; l < c.num_layers; ++l) {
    const Layer& layer = layers_[(size_t)l];
    rms_norm(pool, hidden.data(), T, H, layer.input_norm.data(), c.rms_norm_eps, normed.data());
    linear(pool, normed.data(), T, layer.q, c.qkv_bias ? layer.q_bias.data() : nullptr, q.data());
    linear(pool, normed.data(), T, layer.k, c.qkv_bias ? layer.k_bias.data() : nullptr, k.data());
    linear(pool, normed.data(), T, layer.v, c.qkv_bias ? layer.v_bias.data() : nullptr, v.data());
    apply_rope(pool, q.data(), T, q_dim, c.num_heads, c.head_dim, batch.positions.data(), c.inv_freq, c.rope_attention_scaling);
    apply_rope(pool, k.data(), T, kv_dim, c.num_kv_heads, c.head_dim, batch.positions.data(), c.inv_freq,
               c.rope_attention_scaling);
    write_kv(*cache_, l, slots, k.data(), v.data(), T, c.num_kv_heads, c.head_dim);
    paged_attention(pool, *cache_, l, slots, q.data(), T, c.num_heads, c.num_kv_heads, c.head_dim, attn.data());
    linear(pool, attn.data(), T, layer.o, nullptr, proj.data());
    for (size_t i = 0; i < hidden.size(); ++i) hidden[i] += proj[i];

    rms_norm(pool, hidden.data(), T, H, layer.post_norm.data(), c.rms_norm_eps, normed.data());
    linear(pool, normed.data(), T, layer.gate, nullptr, gate.data());
    linear(pool, normed.data(), T, layer.up, nullptr, up.data());
    swiglu(pool, gate.data(), up.data(), T * I, gate.data());
    linear(pool, gate.data(), T, layer.down, nullptr, proj.data());
    for (size_t i = 0; i < hidden.size(); ++i) hidden[i] += proj[i];
  }

  // Gather the rows whose logits were asked for: the last logits_per_seq[s] tokens of sequence s.
  std::vector<float> rows;
  int64_t start = 0, count = 0;
  for (size_t s = 0; s < batch.query_lens.size(); ++s) {
    const int64_t len = batch.query_lens[s], want = batch.logits_per_seq[s];
    rows.insert(rows.end(), hidden.begin() + (start + len - want) * H, hidden.begin() + (start + len) * H);
    start += len;
    count += want;
  }
  logits->assign((size_t)(count * c.vocab_size), 0.f);
  if (count == 0) return Status::ok();
  rms_norm(pool, rows.data(), count, H, final_norm_.data(), c.rms_norm_eps, rows.data());
  linear(pool, rows.data(), count, lm_head_, nullptr, logits->data());
  return Status::ok();
}

}  // namespace hs::llm
