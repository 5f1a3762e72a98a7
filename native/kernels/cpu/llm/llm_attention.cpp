// Paged causal attention on CPU. One work item is one token and one KV head with the query heads
// that share it (GQA): each cached K and V row of the token's context is read once for the whole
// group, not once per query head. Scores q.k_j for every cached position j <= position(token) are
// gathered block by block through the sequence's block table, softmaxed with the maximum
// subtracted, and the V rows accumulated, then scaled by 1 / sum. An item's arithmetic does not
// depend on the rest of the batch. Keys of the batch's own tokens are written to the cache first,
// so one path serves prefill, chunked prefill and decode alike.
#include "llm_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "kernels/cpu/activation.h"
#include "llm_simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hs::llm {

constexpr int64_t kMaxGroup = 16;  // query heads per work item (larger groups are split)

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
    std::shared_ptr<Buffer> k = Buffer::allocate_huge(per_pool), v = Buffer::allocate_huge(per_pool);
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
  const int64_t bs = cache.block_size();
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t block = slots.slots[(size_t)t] / bs, row = (slots.slots[(size_t)t] % bs) * head_dim;
    for (int64_t h = 0; h < kv_heads; ++h) {
      const int64_t src = (t * kv_heads + h) * head_dim;
      std::memcpy(cache.keys(layer, block, h) + row, k + src, row_bytes);
      std::memcpy(cache.values(layer, block, h) + row, v + src, row_bytes);
    }
  }
}

namespace {

// One work item: `group` query heads (rows of q and out, head_dim apart) over the context of one
// token, reading kv head `kvh` of the cache rows its block table names.
struct GroupItem {
  const float* q;
  float* out;
  float* scores;          // [group, context]
  const int32_t* table;   // the sequence's block table
  int64_t context, group, kvh;
};

// scores[g] = exp(scores[g] - max) in place; returns 1 / sum for each head in inv_sum.
void softmax_rows(float* scores, int64_t group, int64_t context, float* inv_sum) {
  for (int64_t g = 0; g < group; ++g) {
    float* s = scores + g * context;
    const float max_score = *std::max_element(s, s + context);
    float sum = 0.f;
    for (int64_t j = 0; j < context; ++j) sum += (s[j] = std::exp(s[j] - max_score));
    inv_sum[g] = 1.f / sum;
  }
}

// out[g] = inv_sum[g] * sum_j scores[g, j] V[j], accumulated in memory one V row at a time.
void weigh_values_portable(PagedKvCache& cache, int64_t layer, const GroupItem& it, int64_t head_dim, const float* inv_sum) {
  const int64_t ctx = it.context, bs = cache.block_size();
  std::fill(it.out, it.out + it.group * head_dim, 0.f);
  for (int64_t j0 = 0; j0 < ctx; j0 += bs) {
    const float* v = cache.values(layer, it.table[j0 / bs], it.kvh);
    for (int64_t j = j0; j < std::min(ctx, j0 + bs); ++j, v += head_dim)
      for (int64_t g = 0; g < it.group; ++g) axpy(it.scores[g * ctx + j], v, it.out + g * head_dim, head_dim);
  }
  for (int64_t g = 0; g < it.group; ++g)
    for (int64_t d = 0; d < head_dim; ++d) it.out[g * head_dim + d] *= inv_sum[g];
}

void attend_portable(PagedKvCache& cache, int64_t layer, const GroupItem& it, int64_t head_dim, float scale) {
  const int64_t ctx = it.context, bs = cache.block_size();
  for (int64_t j0 = 0; j0 < ctx; j0 += bs) {
    const float* k = cache.keys(layer, it.table[j0 / bs], it.kvh);
    for (int64_t j = j0; j < std::min(ctx, j0 + bs); ++j, k += head_dim)
      for (int64_t g = 0; g < it.group; ++g) it.scores[g * ctx + j] = dot(it.q + g * head_dim, k, head_dim) * scale;
  }
  float inv_sum[kMaxGroup];
  softmax_rows(it.scores, it.group, ctx, inv_sum);
  weigh_values_portable(cache, layer, it, head_dim, inv_sum);
}

#if defined(__x86_64__)
#define HS_AVX2_FN __attribute__((target("avx2,fma")))
using Math8 = cpu::ActivationMath<8>;

// Lane i of the result: the sum of the 8 lanes of v[2 * (i % 4) + i / 4] (the order the tree
// leaves its sums in). One round of 128-bit swaps and two of pairwise adds over all 8 vectors at
// once: under 2 instructions per sum, against ~6 for a horizontal sum of each.
HS_AVX2_FN inline __m256 sum_lanes8(const __m256 v[8]) {
  __m256 x[4];
  for (int i = 0; i < 4; ++i)  // 128-bit half L of x[i]: four partial sums of v[2i + L]
    x[i] = _mm256_add_ps(_mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x20),
                         _mm256_permute2f128_ps(v[2 * i], v[2 * i + 1], 0x31));
  // Element k of half L: the whole sum of v[2k + L].
  return _mm256_hadd_ps(_mm256_hadd_ps(x[0], x[1]), _mm256_hadd_ps(x[2], x[3]));
}

// softmax_rows with the polynomial exp of the fused activations (relative error < 1e-7), 8 scores
// at a time; the last context % 8 through std::exp.
HS_AVX2_FN void softmax_rows_avx2(float* scores, int64_t group, int64_t context, float* inv_sum) {
  const int64_t body = context / 8 * 8;
  for (int64_t g = 0; g < group; ++g) {
    float* s = scores + g * context;
    float max_score = *std::max_element(s, s + context);
    Math8::F sums = {}, v;
    for (int64_t j = 0; j < body; j += 8) {
      std::memcpy(&v, s + j, sizeof v);
      v -= max_score;
      Math8::exp(v);
      std::memcpy(s + j, &v, sizeof v);
      sums += v;
    }
    float sum = 0.f;
    for (int i = 0; i < 8; ++i) sum += sums[i];
    for (int64_t j = body; j < context; ++j) sum += (s[j] = std::exp(s[j] - max_score));
    inv_sum[g] = 1.f / sum;
  }
}

// out[g] = inv_sum[g] * sum_j scores[g, j] V[j] for G query heads, the sums in registers: the output
// columns go W vectors at a time (G * W <= 12 accumulators), each a pass over the V rows.
template <int G>
HS_AVX2_FN void weigh_values_avx2(PagedKvCache& cache, int64_t layer, const GroupItem& it, int64_t head_dim,
                                  const float* inv_sum) {
  constexpr int W = 12 / G < 8 ? 12 / G : 8;  // G is 1, 2, 4 or 8
  const int64_t ctx = it.context, bs = cache.block_size(), vectors = head_dim / 8;
  for (int64_t c0 = 0; c0 < vectors; c0 += W) {
    const int w = (int)std::min<int64_t>(W, vectors - c0);
    __m256 acc[G][W];
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
#pragma GCC unroll 16
      for (int c = 0; c < W; ++c) acc[g][c] = _mm256_setzero_ps();
    for (int64_t j0 = 0; j0 < ctx; j0 += bs) {
      const float* v = cache.values(layer, it.table[j0 / bs], it.kvh) + c0 * 8;
      for (int64_t j = j0; j < std::min(ctx, j0 + bs); ++j, v += head_dim)
#pragma GCC unroll 16
        for (int g = 0; g < G; ++g) {
          const __m256 p = _mm256_set1_ps(it.scores[g * ctx + j]);
#pragma GCC unroll 16
          for (int c = 0; c < W; ++c)
            if (c < w) acc[g][c] = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + c * 8), acc[g][c]);
        }
    }
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) {
      const __m256 inv = _mm256_set1_ps(inv_sum[g]);
#pragma GCC unroll 16
      for (int c = 0; c < w; ++c) _mm256_storeu_ps(it.out + g * head_dim + (c0 + c) * 8, _mm256_mul_ps(inv, acc[g][c]));
    }
  }
}

// head_dim a multiple of 8 on AVX2 CPUs without AVX-512.
HS_AVX2_FN void attend_avx2(PagedKvCache& cache, int64_t layer, const GroupItem& it, int64_t head_dim, float scale) {
  const int64_t ctx = it.context, group = it.group, bs = cache.block_size();
  // Scores of 8 keys at a time: each (head, key) dot product stays a vector of partial sums until
  // sum_lanes8 adds up all 8 together. Key i of a chunk goes to slot 2 * (i % 4) + i / 4, so the
  // sums come out in key order.
  const __m256 vscale = _mm256_set1_ps(scale);
  alignas(32) float chunk[8];
  for (int64_t j0 = 0; j0 < ctx; j0 += 8) {
    const int n = (int)std::min<int64_t>(8, ctx - j0);
    const float* keys[8];
    for (int i = 0; i < 8; ++i) {
      const int64_t j = j0 + std::min(i, n - 1);  // past the context: repeat the last key, its sum is not kept
      keys[2 * (i % 4) + i / 4] = cache.keys(layer, it.table[j / bs], it.kvh) + (j % bs) * head_dim;
    }
    for (int64_t g = 0; g < group; ++g) {
      const float* q = it.q + g * head_dim;
      __m256 acc[8];
      const __m256 q0 = _mm256_loadu_ps(q);
      for (int i = 0; i < 8; ++i) acc[i] = _mm256_mul_ps(q0, _mm256_loadu_ps(keys[i]));
      for (int64_t d = 8; d < head_dim; d += 8) {
        const __m256 qd = _mm256_loadu_ps(q + d);
        for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(keys[i] + d), acc[i]);
      }
      float* out = it.scores + g * ctx + j0;
      if (n == 8) {
        _mm256_storeu_ps(out, _mm256_mul_ps(sum_lanes8(acc), vscale));
      } else {
        _mm256_store_ps(chunk, _mm256_mul_ps(sum_lanes8(acc), vscale));
        std::memcpy(out, chunk, (size_t)n * sizeof(float));
      }
    }
  }
  float inv_sum[kMaxGroup];
  softmax_rows_avx2(it.scores, group, ctx, inv_sum);
  switch (group) {
    case 1: return weigh_values_avx2<1>(cache, layer, it, head_dim, inv_sum);
    case 2: return weigh_values_avx2<2>(cache, layer, it, head_dim, inv_sum);
    case 4: return weigh_values_avx2<4>(cache, layer, it, head_dim, inv_sum);
    case 8: return weigh_values_avx2<8>(cache, layer, it, head_dim, inv_sum);
    default: return weigh_values_portable(cache, layer, it, head_dim, inv_sum);  // axpy is AVX2 itself
  }
}
#endif

#if defined(__x86_64__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's AVX-512 headers (GCC bug 105593)
#define HS_AVX512_FN __attribute__((target("avx512f,avx2,fma")))

// out[g] = inv_sum[g] * sum_j scores[g, j] V[j] for G query heads, with the sums in registers: the
// output columns go W vectors at a time (G * W <= 16 accumulators), each a pass over the V rows. Per
// output element it is the same FMA chain over j, from zero, as the memory-accumulating loop below
// (used for other group sizes), so the results are the same bits.
template <int G>
HS_AVX512_FN void weigh_values(PagedKvCache& cache, int64_t layer, const GroupItem& it, int64_t head_dim,
                               const float* inv_sum) {
  constexpr int W = 16 / G < 8 ? 16 / G : 8;  // G is 1, 2, 4 or 8
  const int64_t ctx = it.context, bs = cache.block_size(), vectors = head_dim / 16;
  for (int64_t c0 = 0; c0 < vectors; c0 += W) {
    const int w = (int)std::min<int64_t>(W, vectors - c0);
    __m512 acc[G][W];
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g)
#pragma GCC unroll 16
      for (int c = 0; c < W; ++c) acc[g][c] = _mm512_setzero_ps();
    for (int64_t j0 = 0; j0 < ctx; j0 += bs) {
      const float* v = cache.values(layer, it.table[j0 / bs], it.kvh) + c0 * 16;
      for (int64_t j = j0; j < std::min(ctx, j0 + bs); ++j, v += head_dim) {
        __m512 vv[W];
#pragma GCC unroll 16
        for (int c = 0; c < W; ++c)
          if (c < w) vv[c] = _mm512_loadu_ps(v + c * 16);
#pragma GCC unroll 16
        for (int g = 0; g < G; ++g) {
          const __m512 p = _mm512_set1_ps(it.scores[g * ctx + j]);
#pragma GCC unroll 16
          for (int c = 0; c < W; ++c)
            if (c < w) acc[g][c] = _mm512_fmadd_ps(p, vv[c], acc[g][c]);
        }
      }
    }
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) {
      const __m512 inv = _mm512_set1_ps(inv_sum[g]);
#pragma GCC unroll 16
      for (int c = 0; c < w; ++c) _mm512_storeu_ps(it.out + g * head_dim + (c0 + c) * 16, _mm512_mul_ps(inv, acc[g][c]));
    }
  }
}

// head_dim a multiple of 16: 16-float vectors throughout.
HS_AVX512_FN void attend_avx512(PagedKvCache& cache, int64_t layer, const GroupItem& it, int64_t head_dim, float scale) {
  const int64_t ctx = it.context, group = it.group, bs = cache.block_size();
  for (int64_t j0 = 0; j0 < ctx; j0 += bs) {
    const float* k = cache.keys(layer, it.table[j0 / bs], it.kvh);
    for (int64_t j = j0; j < std::min(ctx, j0 + bs); ++j, k += head_dim)
      for (int64_t g = 0; g < group; ++g) {
        const float* q = it.q + g * head_dim;
        __m512 acc = _mm512_mul_ps(_mm512_loadu_ps(q), _mm512_loadu_ps(k));
        for (int64_t d = 16; d < head_dim; d += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), _mm512_loadu_ps(k + d), acc);
        it.scores[g * ctx + j] = _mm512_reduce_add_ps(acc) * scale;
      }
  }
  float inv_sum[kMaxGroup];
  softmax_rows(it.scores, group, ctx, inv_sum);
  switch (group) {
    case 1: return weigh_values<1>(cache, layer, it, head_dim, inv_sum);
    case 2: return weigh_values<2>(cache, layer, it, head_dim, inv_sum);
    case 4: return weigh_values<4>(cache, layer, it, head_dim, inv_sum);
    case 8: return weigh_values<8>(cache, layer, it, head_dim, inv_sum);
    default: break;
  }
  std::fill(it.out, it.out + group * head_dim, 0.f);
  for (int64_t j0 = 0; j0 < ctx; j0 += bs) {
    const float* v = cache.values(layer, it.table[j0 / bs], it.kvh);
    for (int64_t j = j0; j < std::min(ctx, j0 + bs); ++j, v += head_dim)
      for (int64_t g = 0; g < group; ++g) {
        const __m512 p = _mm512_set1_ps(it.scores[g * ctx + j]);
        float* o = it.out + g * head_dim;
        for (int64_t d = 0; d < head_dim; d += 16)
          _mm512_storeu_ps(o + d, _mm512_fmadd_ps(p, _mm512_loadu_ps(v + d), _mm512_loadu_ps(o + d)));
      }
  }
  for (int64_t g = 0; g < group; ++g) {
    const __m512 inv = _mm512_set1_ps(inv_sum[g]);
    float* o = it.out + g * head_dim;
    for (int64_t d = 0; d < head_dim; d += 16) _mm512_storeu_ps(o + d, _mm512_mul_ps(inv, _mm512_loadu_ps(o + d)));
  }
}
#pragma GCC diagnostic pop
#endif

}  // namespace

void paged_attention(ThreadPool& pool, PagedKvCache& cache, int64_t layer, const TokenSlots& slots, const float* q,
                     int64_t tokens, int64_t heads, int64_t kv_heads, int64_t head_dim, float* out) {
  const int64_t group = heads / kv_heads;
  const float scale = 1.f / std::sqrt((float)head_dim);
#if defined(__x86_64__)
  const bool avx512 = cpu_has_avx512() && head_dim % 16 == 0;
  const bool avx2 = !avx512 && cpu_has_avx2() && head_dim % 8 == 0;
#endif
  pool.parallel_for(tokens * kv_heads, 1, [&](int64_t b, int64_t e) {
    std::vector<float> scores;
    for (int64_t item = b; item < e; ++item) {
      const int64_t t = item / kv_heads, kvh = item % kv_heads;
      const int64_t context = (int64_t)slots.positions[t] + 1;
      const int32_t* table = slots.block_tables + (int64_t)slots.seq_of_token[(size_t)t] * slots.max_blocks;
      // Heads h = kvh * group .. kvh * group + group - 1 read kv head kvh; their q and out rows are adjacent.
      const int64_t first = t * heads + kvh * group;
      scores.resize((size_t)(std::min(group, kMaxGroup) * context));
      for (int64_t g0 = 0; g0 < group; g0 += kMaxGroup) {
        const GroupItem it{q + (first + g0) * head_dim, out + (first + g0) * head_dim, scores.data(), table,
                           context, std::min(kMaxGroup, group - g0), kvh};
#if defined(__x86_64__)
        if (avx512) {
          attend_avx512(cache, layer, it, head_dim, scale);
          continue;
        }
        if (avx2) {
          attend_avx2(cache, layer, it, head_dim, scale);
          continue;
        }
#endif
        attend_portable(cache, layer, it, head_dim, scale);
      }
    }
  });
}

}  // namespace hs::llm
