// native/kernels/cuda/paged_attention.cu run on the host through cuda_sim (its own launcher, translated):
// paged-KV decode attention against a float64 reference from attention_types.h's contract (the
// sequence's K/V rows gathered through its block table, then softmax(q k^T * scale) v), for float16
// and bfloat16, head_dim 8..256, GQA groups 1, 2, 3, 4, 6 and 8, block sizes that are and are not
// powers of two, contexts of 0, 1, block-ragged and split-K lengths (one partition, several, the last
// one partial or exactly full, partitions past every context), physical blocks shuffled through the
// pool. Cache slots that no context covers, and spare block-table entries, hold NaN, so reading past
// a context shows. Also the documented holes (a table entry out of range reads as zero rows), contexts
// cut at the block table's end, and ERR_INVALID_ARGUMENT for bad arguments. Built and run by
// llm-kernels-sim.test.ts.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/cuda/paged_attention.cuh"
#include "sim_16bit.h"
#include "sim_test.h"

using namespace hs::cuda;
using sim_test::check;
using sim_test::close;
using sim_test::Dtype;
using sim_test::widened;

namespace {

constexpr int kPartition = 512;  // the launcher's split-K partition (tokens)

struct DecodeCase {
  int heads, kv_heads, head_dim, block_size;
  std::vector<int32_t> context_lens;
  int max_context_len = 0;  // 0: the longest context
  float scale_boost = 1.f;  // scale = scale_boost / sqrt(head_dim); larger gives a peakier softmax
  int table_blocks = 0;     // max_blocks_per_seq; 0: the longest context's blocks and one spare
  std::vector<std::pair<int, int>> holes = {};  // (sequence, table entry) set to -1 and num_blocks alternately
};

std::string describe(const DecodeCase& c, const char* dtype) {
  std::string lens;
  for (int32_t n : c.context_lens) lens += (lens.empty() ? "" : ",") + std::to_string(n);
  return std::string("decode ") + dtype + " heads " + std::to_string(c.heads) + "/" + std::to_string(c.kv_heads) + " head_dim " +
         std::to_string(c.head_dim) + " block " + std::to_string(c.block_size) + " contexts " + lens +
         (c.max_context_len ? " max " + std::to_string(c.max_context_len) : "") + (c.holes.empty() ? "" : " with holes");
}

// The paged cache of a batch: each sequence's blocks at shuffled physical blocks of the pool; the
// slots no context reaches (spare blocks, the tail of a last block) hold NaN, and spare table
// entries name a spare block.
template <class T>
struct PagedCache {
  int num_blocks = 0, max_blocks_per_seq = 0;
  std::vector<int32_t> block_tables;
  std::vector<T> k, v;
};

template <class T>
PagedCache<T> paged_cache(const DecodeCase& c) {
  const int bs = c.block_size, seqs = (int)c.context_lens.size();
  const int64_t row = (int64_t)c.kv_heads * c.head_dim;
  PagedCache<T> cache;
  cache.max_blocks_per_seq = c.table_blocks;
  if (!cache.max_blocks_per_seq)
    for (int32_t n : c.context_lens) cache.max_blocks_per_seq = std::max(cache.max_blocks_per_seq, (n + bs - 1) / bs + 1);
  std::vector<int> used(seqs);
  for (int s = 0; s < seqs; ++s) used[s] = std::min((c.context_lens[s] + bs - 1) / bs, cache.max_blocks_per_seq);
  cache.num_blocks = std::accumulate(used.begin(), used.end(), 0) + 2;  // two spare blocks
  std::vector<int32_t> physical(cache.num_blocks);
  std::iota(physical.begin(), physical.end(), 0);
  std::shuffle(physical.begin(), physical.end(), sim_test::rng());
  const int32_t spare = physical.back();
  cache.block_tables.assign((size_t)seqs * cache.max_blocks_per_seq, spare);
  cache.k.resize((size_t)cache.num_blocks * bs * row);
  cache.v.resize(cache.k.size());
  sim_test::poison(cache.k);
  sim_test::poison(cache.v);
  size_t next = 0;
  for (int s = 0; s < seqs; ++s) {
    const int ctx = std::min(c.context_lens[s], cache.max_blocks_per_seq * bs);
    for (int b = 0; b < used[s]; ++b) cache.block_tables[(size_t)s * cache.max_blocks_per_seq + b] = physical[next++];
    for (int j = 0; j < ctx; ++j) {
      const int64_t at = ((int64_t)cache.block_tables[(size_t)s * cache.max_blocks_per_seq + j / bs] * bs + j % bs) * row;
      const auto k = sim_test::randoms(row, -2, 2), v = sim_test::randoms(row);
      for (int64_t e = 0; e < row; ++e) {
        cache.k[at + e] = Dtype<T>::from(k[e]);
        cache.v[at + e] = Dtype<T>::from(v[e]);
      }
    }
  }
  for (size_t i = 0; i < c.holes.size(); ++i)
    cache.block_tables[(size_t)c.holes[i].first * cache.max_blocks_per_seq + c.holes[i].second] = i % 2 ? cache.num_blocks : -1;
  return cache;
}

// softmax(q k^T * scale) v per sequence and head, over the K/V rows its block table names (an entry
// outside the pool: zero rows), for the context cut at the table's end; a context of 0 gives zeros.
template <class T>
std::vector<double> reference(const DecodeCase& c, const PagedCache<T>& cache, const std::vector<T>& q, float scale) {
  const int H = c.heads, KH = c.kv_heads, D = c.head_dim, bs = c.block_size, seqs = (int)c.context_lens.size();
  std::vector<double> out((size_t)seqs * H * D, 0.0);
  for (int s = 0; s < seqs; ++s) {
    const int ctx = std::min(c.context_lens[s], cache.max_blocks_per_seq * bs);
    for (int h = 0; h < H; ++h) {
      const int kh = h / (H / KH);
      auto row_of = [&](const std::vector<T>& pool, int j) {
        std::vector<double> r(D, 0.0);
        const int32_t block = cache.block_tables[(size_t)s * cache.max_blocks_per_seq + j / bs];
        if (block < 0 || block >= cache.num_blocks) return r;
        for (int d = 0; d < D; ++d) r[d] = Dtype<T>::to(pool[(((int64_t)block * bs + j % bs) * KH + kh) * D + d]);
        return r;
      };
      std::vector<double> weights(ctx);
      double top = -INFINITY, sum = 0;
      for (int j = 0; j < ctx; ++j) {
        const auto k = row_of(cache.k, j);
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += Dtype<T>::to(q[((size_t)s * H + h) * D + d]) * k[d];
        top = std::max(top, weights[j] = dot * scale);
      }
      for (double& w : weights) sum += w = std::exp(w - top);
      for (int j = 0; j < ctx; ++j) {
        const auto v = row_of(cache.v, j);
        for (int d = 0; d < D; ++d) out[((size_t)s * H + h) * D + d] += weights[j] / sum * v[d];
      }
    }
  }
  return out;
}

template <class T>
void decode_case(const DecodeCase& c) {
  const int seqs = (int)c.context_lens.size();
  const std::string what = describe(c, Dtype<T>::name);
  const PagedCache<T> cache = paged_cache<T>(c);
  std::vector<T> q((size_t)seqs * c.heads * c.head_dim);
  const auto q_values = sim_test::randoms(q.size(), -2, 2);
  for (size_t i = 0; i < q.size(); ++i) q[i] = Dtype<T>::from(q_values[i]);
  std::vector<T> out(q.size());
  sim_test::poison(out);

  DecodeArgs a;
  a.dtype = Dtype<T>::kind;
  a.q = q.data();
  a.k_cache = cache.k.data();
  a.v_cache = cache.v.data();
  a.out = out.data();
  a.block_tables = cache.block_tables.data();
  a.context_lens = c.context_lens.data();
  a.num_seqs = seqs;
  a.num_heads = c.heads;
  a.num_kv_heads = c.kv_heads;
  a.head_dim = c.head_dim;
  a.block_size = c.block_size;
  a.num_blocks = cache.num_blocks;
  a.max_blocks_per_seq = cache.max_blocks_per_seq;
  a.max_context_len = c.max_context_len ? c.max_context_len : *std::max_element(c.context_lens.begin(), c.context_lens.end());
  a.scale = c.scale_boost / std::sqrt((float)c.head_dim);
  // Exactly the bytes asked for (AddressSanitizer sees an overrun), NaN where nothing is written yet.
  std::vector<float> workspace(paged_attention_workspace_size(a) / sizeof(float));
  sim_test::poison(workspace);
  a.workspace = workspace.empty() ? nullptr : workspace.data();
  check(workspace.empty() == (a.max_context_len <= kPartition),
        what + ": split-K workspace for max_context_len " + std::to_string(a.max_context_len));
  check(paged_attention_decode(a, nullptr).is_ok(), what);
  close(widened(out), reference(c, cache, q, a.scale), Dtype<T>::rtol, 2e-5, what);
}

bool invalid(const hs::Status& s) { return s.code() == hs::StatusCode::kInvalidArgument; }

// Bad arguments give ERR_INVALID_ARGUMENT before anything is launched.
void argument_errors() {
  std::vector<__half> buf(4096);
  std::vector<int32_t> ints(8, 0);
  std::vector<float> workspace(4096);
  DecodeArgs a;
  a.q = a.k_cache = a.v_cache = buf.data();
  a.out = buf.data();
  a.block_tables = a.context_lens = ints.data();
  a.num_seqs = 1;
  a.num_heads = 4;
  a.num_kv_heads = 2;
  a.head_dim = 64;
  a.block_size = 16;
  a.num_blocks = 2;
  a.max_blocks_per_seq = 2;
  a.max_context_len = 32;
  a.scale = 0.125f;
  auto rejects = [&](const char* what, auto&& change) {
    DecodeArgs bad = a;
    change(bad);
    check(invalid(paged_attention_decode(bad, nullptr)), std::string("decode rejects ") + what);
  };
  rejects("head_dim 12", [](DecodeArgs& b) { b.head_dim = 12; });
  rejects("head_dim 264", [](DecodeArgs& b) { b.head_dim = 264; });
  rejects("kv heads that do not divide heads", [](DecodeArgs& b) { b.num_kv_heads = 3; });
  rejects("no sequences", [](DecodeArgs& b) { b.num_seqs = 0; });
  rejects("65536 sequences", [](DecodeArgs& b) { b.num_seqs = 65536; });
  rejects("block_size 0", [](DecodeArgs& b) { b.block_size = 0; });
  rejects("a negative max_context_len", [](DecodeArgs& b) { b.max_context_len = -1; });
  rejects("a misaligned q", [&](DecodeArgs& b) { b.q = buf.data() + 1; });
  rejects("a misaligned v_cache", [&](DecodeArgs& b) { b.v_cache = buf.data() + 4; });
  rejects("a NaN scale", [](DecodeArgs& b) { b.scale = NAN; });
  rejects("a bad dtype", [](DecodeArgs& b) { b.dtype = static_cast<AttnDType>(2); });
  rejects("a null block table", [](DecodeArgs& b) { b.block_tables = nullptr; });
  rejects("split-K without a workspace", [](DecodeArgs& b) { b.max_context_len = kPartition + 1; });
  rejects("more than 65535 partitions", [&](DecodeArgs& b) {
    b.max_context_len = 65536 * kPartition;
    b.workspace = workspace.data();
  });
}

template <class T>
void cases_for_dtype() {
  const DecodeCase cases[] = {
      // GQA 1, one partition; contexts of 1, block-ragged and a whole number of blocks.
      {4, 4, 128, 16, {1, 37, 304}},
      // GQA 2, three partitions: one partition's worth + 1, the longest (the last partial), one block, empty.
      {4, 2, 64, 16, {513, 1100, 16, 0}, 0, 2.f},
      // GQA 4 at the widest head; max_context_len past every context (four partitions, only the
      // first holding tokens).
      {4, 1, 256, 32, {300, 5}, 1600},
      // GQA 8 with 8-wide heads (one lane a token), a block size that is not a power of two, a
      // context of exactly two partitions.
      {16, 2, 8, 7, {100, 2 * kPartition}, 0, 2.f},
      // GQA 3 (one head a CTA), a head of 3 chunks (lanes idle in every token's group), an empty context.
      {6, 2, 24, 5, {0, 9, 61}},
      // GQA 6 (two heads a CTA, three CTAs a KV head), two partitions.
      {6, 1, 80, 12, {150, 530}, 0, 3.f},
      // Documented edges: a hole in a table (zero rows), a context longer than its table (cut there).
      {2, 2, 32, 8, {40, 70}, 0, 1.f, 8, {{0, 2}, {1, 4}}},
  };
  for (const DecodeCase& c : cases) decode_case<T>(c);
}

}  // namespace

int main() {
  cases_for_dtype<__half>();
  cases_for_dtype<__nv_bfloat16>();
  argument_errors();
  return sim_test::finish("paged_attention_sim");
}
