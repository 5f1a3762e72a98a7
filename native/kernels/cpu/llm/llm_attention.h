// The paged KV cache and causal attention over it. Each layer owns one K and one V pool of
// [num_blocks, kv_heads, block_size, head_dim] float32, so the rows one KV head reads from a block
// are contiguous; a sequence's block table lists the blocks that hold its positions (position p
// lives in block table[p / block_size], row p % block_size).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "hs/status.h"
#include "hs/tensor.h"
#include "hs/thread_pool.h"

namespace hs::llm {

class PagedKvCache {
 public:
  static Result<std::shared_ptr<PagedKvCache>> create(int64_t layers, int64_t num_blocks, int64_t block_size,
                                                      int64_t kv_heads, int64_t head_dim);
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  size_t bytes() const { return (size_t)(2 * layers_ * num_blocks_ * block_size_ * kv_heads_ * head_dim_) * sizeof(float); }
  // The block_size K (or V) rows of one kv head in one block of a layer, head_dim floats apart.
  float* keys(int64_t layer, int64_t block, int64_t kv_head) { return rows(k_, layer, block, kv_head); }
  float* values(int64_t layer, int64_t block, int64_t kv_head) { return rows(v_, layer, block, kv_head); }

 private:
  float* rows(std::vector<std::shared_ptr<Buffer>>& pool, int64_t layer, int64_t block, int64_t kv_head) {
    return static_cast<float*>(pool[(size_t)layer]->data()) + (block * kv_heads_ + kv_head) * block_size_ * head_dim_;
  }
  int64_t layers_ = 0, num_blocks_ = 0, block_size_ = 0, kv_heads_ = 0, head_dim_ = 0;
  std::vector<std::shared_ptr<Buffer>> k_, v_;
};

// Where each token of a forward batch sits: its position and the cache slot it writes.
struct TokenSlots {
  const int32_t* positions = nullptr;   // [tokens]
  std::vector<int64_t> slots;           // [tokens] block * block_size + offset
  std::vector<int32_t> seq_of_token;    // [tokens] index of the token's sequence
  const int32_t* block_tables = nullptr;// [seqs, max_blocks]
  int64_t max_blocks = 0;
};

// Stores k and v ([tokens, kv_heads * head_dim]) of every token at its slot in `layer`.
void write_kv(PagedKvCache& cache, int64_t layer, const TokenSlots& slots, const float* k, const float* v,
              int64_t tokens, int64_t kv_heads, int64_t head_dim);

// out[t, h] = softmax_j(q[t, h] . K[j] / sqrt(head_dim)) V[j] over positions j <= position(t) of
// the token's sequence, with q head h reading kv head h / (heads / kv_heads).
void paged_attention(ThreadPool& pool, PagedKvCache& cache, int64_t layer, const TokenSlots& slots, const float* q,
                     int64_t tokens, int64_t heads, int64_t kv_heads, int64_t head_dim, float* out);

}  // namespace hs::llm
