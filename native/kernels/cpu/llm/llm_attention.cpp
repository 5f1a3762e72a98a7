// Paged causal attention on CPU. One (token, head) pair per work item: scores q.k_j for every
// cached position j <= position(token) are gathered block by block through the sequence's block
// table, softmaxed with the running maximum subtracted, and the V rows accumulated with axpy.
// Keys of the batch's own tokens are written to the cache first, so one path serves prefill,
// chunked prefill and decode alike.
#include "llm_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "llm_simd.h"

namespace hs::llm {

Result<std::shared_ptr<PagedKvCache>> PagedKvCache::create(int64_t layers, int64_t num_blocks, int64_t block_size,
                                                            int64_t kv_heads, int64_t head_dim) {
  if (num_blocks <= 0 || block_size <= 0)
    return Status(StatusCode::kInvalidArgument, str_cat("the KV cache needs num_blocks > 0 and block_size > 0, got ",
                                                        num_blocks, " and ", block_size));
  auto cache = std::make_shared<PagedKvCache>();
  cache->layers_ = layers;
  cache->num_blocks_ = num_blocks;
  cache->block_size_ = block_size;
  cache->kv_heads_ = kv_heads;
  cache->head_dim_ = head_dim;
  const size_t per_pool = (size_t)(num_blocks * block_size * kv_heads * head_dim) * sizeof(float);
  for (int64_t l = 0; l < layers; ++l) {
    std::shared_ptr<Buffer> k = Buffer::allocate(per_pool), v = Buffer::allocate(per_pool);
    if (!k || !v)
      return Status(StatusCode::kInvalidArgument,
                    str_cat("cannot allocate a KV cache of ", cache->bytes(), " bytes; lower numBlocks or kvCacheBytes"));
    std::memset(k->data(), 0, per_pool);
    std::memset(v->data(), 0, per_pool);
    cache->k_.push_back(std::move(k));
    cache->v_.push_back(std::move(v));
  }
  return cache;
}

void write_kv(PagedKvCache& cache, int64_t layer, const TokenSlots& slots, const float* k, const float* v,
              int64_t tokens, int64_t kv_heads, int64_t head_dim) {
  const size_t row_bytes = (size_t)head_dim * sizeof(float);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t h = 0; h < kv_heads; ++h) {
      const int64_t src = (t * kv_heads + h) * head_dim;
      std::memcpy(cache.key(layer, slots.slots[(size_t)t], h), k + src, row_bytes);
      std::memcpy(cache.value(layer, slots.slots[(size_t)t], h), v + src, row_bytes);
    }
}

void paged_attention(ThreadPool& pool, PagedKvCache& cache, int64_t layer, const TokenSlots& slots, const float* q,
                     int64_t tokens, int64_t heads, int64_t kv_heads, int64_t head_dim, float* out) {
  const int64_t group = heads / kv_heads;
  const int64_t block_size = cache.block_size();
  const float scale = 1.f / std::sqrt((float)head_dim);
  pool.parallel_for(tokens * heads, 1, [&](int64_t b, int64_t e) {
    std::vector<float> scores;
    for (int64_t item = b; item < e; ++item) {
      const int64_t t = item / heads, h = item % heads, kvh = h / group;
      const int64_t context = (int64_t)slots.positions[t] + 1;
      const int32_t* table = slots.block_tables + (int64_t)slots.seq_of_token[(size_t)t] * slots.max_blocks;
      const float* qv = q + (t * heads + h) * head_dim;
      scores.resize((size_t)context);
      float max_score = -INFINITY;
      for (int64_t j = 0; j < context; ++j) {
        const int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
        scores[(size_t)j] = dot(qv, cache.key(layer, slot, kvh), head_dim) * scale;
        max_score = std::max(max_score, scores[(size_t)j]);
      }
      float sum = 0.f;
      for (int64_t j = 0; j < context; ++j) {
        scores[(size_t)j] = std::exp(scores[(size_t)j] - max_score);
        sum += scores[(size_t)j];
      }
      float* dst = out + (t * heads + h) * head_dim;
      std::fill(dst, dst + head_dim, 0.f);
      const float inv_sum = 1.f / sum;
      for (int64_t j = 0; j < context; ++j) {
        const int64_t slot = (int64_t)table[j / block_size] * block_size + j % block_size;
        axpy(scores[(size_t)j] * inv_sum, cache.value(layer, slot, kvh), dst, head_dim);
      }
    }
  });
}

}  // namespace hs::llm
