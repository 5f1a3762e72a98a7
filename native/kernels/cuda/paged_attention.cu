// Decode attention over a paged KV cache: one query token per sequence.
//
// Partition kernel: a CTA of 4 warps takes one sequence, one KV head, up to 8 of the query heads that
// share it (GQA/MQA read each K/V row once for the whole group) and one 512-token partition of the
// context (split-K). A token's K row is read by hdim/8 lanes, 16 bytes each, so a warp covers
// 32 / (hdim/8) tokens per step, four steps' loads issued before their use. Pass 1 writes the scaled
// scores (log2 units) of the partition to shared memory; pass 2 takes each head's max and turns the
// scores into exp2 weights and their sum; pass 3 streams V with the same mapping and accumulates
// weight * V in registers, reduced across the token lanes by shuffles and across warps by shared
// atomics. With one partition the normalised row is written straight to `out`; otherwise each
// partition leaves its normalised row and log-sum-exp in the workspace, and the reduction kernel
// combines them: out = sum_p 2^(lse_p - M) o_p / sum_p 2^(lse_p - M), M = max_p lse_p.
// Block-table entries outside [0, num_blocks) read as zero rows; contexts longer than the block table
// are cut there, and past max_context_len (a contract breach) at the end of its last partition.
#include "kernels/cuda/attention_device.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/paged_attention.cuh"

#include <cmath>
#include <cstdint>

namespace hs::cuda {
namespace {

using device::kLog2e;

constexpr int kPartition = 512;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxHeadDim = 256;
constexpr int kUnroll = 4;
constexpr int kReduceThreads = 128;

int num_splits_for(const DecodeArgs& a) { return a.max_context_len > 0 ? (a.max_context_len + kPartition - 1) / kPartition : 1; }

// Tokens [t0, t0 + n) of a sequence, the lanes of a warp laid out as tokens x 16-byte chunks.
struct TokenLanes {
  int chunks;           // head_dim / 8
  int lanes_per_token;  // chunks rounded up to a power of two
  int token;            // this lane's token within a step
  int chunk;            // this lane's chunk
  bool active;          // chunk < chunks
};
__device__ __forceinline__ TokenLanes token_lanes(int head_dim, int lane) {
  TokenLanes t;
  t.chunks = head_dim / 8;
  t.lanes_per_token = 1;
  while (t.lanes_per_token < t.chunks) t.lanes_per_token *= 2;
  t.token = lane / t.lanes_per_token;
  t.chunk = lane % t.lanes_per_token;
  t.active = t.chunk < t.chunks;
  return t;
}

template <typename T, int kHeads>
__global__ void __launch_bounds__(kThreads) paged_decode_partition_kernel(const DecodeArgs p, float scale_log2,
                                                                          int num_splits, float* part_out,
                                                                          float* part_lse) {
  using namespace device;
  __shared__ float s_weights[kHeads][kPartition];
  __shared__ float s_acc[kHeads][kMaxHeadDim];
  __shared__ float s_max[kHeads];
  __shared__ float s_sum[kHeads];
  __shared__ int64_t s_row[kPartition];  // element offset of each token's row for this KV head, -1: a hole

  const int D = p.head_dim;
  const int group = p.num_heads / p.num_kv_heads;
  const int chunks_per_kv = group / kHeads;
  const int kvh = blockIdx.x / chunks_per_kv;
  const int head0 = kvh * group + (blockIdx.x % chunks_per_kv) * kHeads;
  const int seq = blockIdx.y, split = blockIdx.z;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;

  int ctx = min(p.context_lens[seq], p.max_blocks_per_seq * p.block_size);
  ctx = min(ctx, num_splits * kPartition);
  const int t0 = split * kPartition;
  const int n = min(ctx - t0, kPartition);
  if (n <= 0) {
    if (num_splits == 1) {  // an empty context: zero rows
      T* out = static_cast<T*>(p.out) + (int64_t(seq) * p.num_heads + head0) * D;
      for (int i = tid; i < kHeads * D; i += kThreads) out[i] = from_float<T>(0.f);
    }
    return;
  }

  const TokenLanes tl = token_lanes(D, lane);
  const int tokens_per_step = 32 / tl.lanes_per_token;
  const int64_t token_stride = int64_t(p.num_kv_heads) * D;
  const int32_t* block_table = p.block_tables + int64_t(seq) * p.max_blocks_per_seq;
  for (int t = tid; t < n; t += kThreads) {
    const int token = t0 + t;
    const int block = block_table[token / p.block_size];
    s_row[t] = block >= 0 && block < p.num_blocks
                   ? (int64_t(block) * p.block_size + token % p.block_size) * token_stride + int64_t(kvh) * D
                   : -1;
  }
  // This lane's 16 bytes of token t (partition-local) in a cache; zeros past the end or for a hole.
  auto load = [&](const void* cache, int t) -> uint4 {
    if (t >= n || !tl.active || s_row[t] < 0) return make_uint4(0, 0, 0, 0);
    return __ldg(reinterpret_cast<const uint4*>(static_cast<const T*>(cache) + s_row[t] + tl.chunk * 8));
  };

  float q[kHeads][8];
#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
    uint4 raw = make_uint4(0, 0, 0, 0);
    if (tl.active) raw = *reinterpret_cast<const uint4*>(static_cast<const T*>(p.q) + (int64_t(seq) * p.num_heads + head0 + h) * D + tl.chunk * 8);
    unpack8<T>(raw, q[h]);
#pragma unroll
    for (int e = 0; e < 8; ++e) q[h][e] *= scale_log2;
  }
  for (int i = tid; i < kHeads * D; i += kThreads) s_acc[i / D][i % D] = 0.f;
  __syncthreads();

  // Pass 1: scores.
  const int step = kWarps * tokens_per_step;
  for (int base = warp * tokens_per_step; base < n; base += step * kUnroll) {
    uint4 raw[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) raw[u] = load(p.k_cache, base + u * step + tl.token);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float k[8];
      unpack8<T>(raw[u], k);
      const int t = base + u * step + tl.token;
#pragma unroll
      for (int h = 0; h < kHeads; ++h) {
        float dot = 0.f;
#pragma unroll
        for (int e = 0; e < 8; ++e) dot += q[h][e] * k[e];
        dot = warp_sum(dot, tl.lanes_per_token);
        if (tl.chunk == 0 && t < n) s_weights[h][t] = dot;
      }
    }
  }
  __syncthreads();

  // Pass 2: per-head max, exp2 weights and their sum.
  for (int h = warp; h < kHeads; h += kWarps) {
    float m = -INFINITY;
    for (int t = lane; t < n; t += 32) m = fmaxf(m, s_weights[h][t]);
    m = warp_max(m);
    float sum = 0.f;
    for (int t = lane; t < n; t += 32) {
      const float w = fast_exp2(s_weights[h][t] - m);
      s_weights[h][t] = w;
      sum += w;
    }
    sum = warp_sum(sum);
    if (lane == 0) {
      s_max[h] = m;
      s_sum[h] = sum;
    }
  }
  __syncthreads();

  // Pass 3: weighted sum of V rows.
  float acc[kHeads][8];
#pragma unroll
  for (int h = 0; h < kHeads; ++h)
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[h][e] = 0.f;
  for (int base = warp * tokens_per_step; base < n; base += step * kUnroll) {
    uint4 raw[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) raw[u] = load(p.v_cache, base + u * step + tl.token);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = base + u * step + tl.token;
      if (t >= n) continue;
      float v[8];
      unpack8<T>(raw[u], v);
#pragma unroll
      for (int h = 0; h < kHeads; ++h) {
        const float w = s_weights[h][t];
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[h][e] += w * v[e];
      }
    }
  }
#pragma unroll
  for (int h = 0; h < kHeads; ++h)
#pragma unroll
    for (int e = 0; e < 8; ++e)
      for (int offset = tl.lanes_per_token; offset < 32; offset *= 2)
        acc[h][e] += __shfl_xor_sync(0xffffffffu, acc[h][e], offset);
  if (tl.token == 0 && tl.active) {
#pragma unroll
    for (int h = 0; h < kHeads; ++h)
#pragma unroll
      for (int e = 0; e < 8; ++e) atomicAdd(&s_acc[h][tl.chunk * 8 + e], acc[h][e]);
  }
  __syncthreads();

  for (int i = tid; i < kHeads * D; i += kThreads) {
    const int h = i / D, d = i % D;
    const float value = s_acc[h][d] / s_sum[h];
    const int64_t row = int64_t(seq) * p.num_heads + head0 + h;
    if (num_splits == 1) {
      static_cast<T*>(p.out)[row * D + d] = from_float<T>(value);
    } else {
      part_out[(row * num_splits + split) * D + d] = value;
      if (d == 0) part_lse[row * num_splits + split] = s_max[h] + log2f(s_sum[h]);
    }
  }
}

// One CTA per (head, sequence): combines the partitions that hold tokens of the context.
template <typename T>
__global__ void __launch_bounds__(kReduceThreads) paged_decode_reduce_kernel(const DecodeArgs p, int num_splits,
                                                                             const float* part_out,
                                                                             const float* part_lse) {
  using namespace device;
  const int h = blockIdx.x, seq = blockIdx.y;
  const int D = p.head_dim;
  int ctx = min(p.context_lens[seq], p.max_blocks_per_seq * p.block_size);
  ctx = min(ctx, num_splits * kPartition);
  const int used = ctx > 0 ? (ctx + kPartition - 1) / kPartition : 0;
  const int64_t row = int64_t(seq) * p.num_heads + h;
  const float* lse = part_lse + row * num_splits;
  float m = -INFINITY;
  for (int s = 0; s < used; ++s) m = fmaxf(m, lse[s]);
  float total = 0.f;
  for (int s = 0; s < used; ++s) total += exp2f(lse[s] - m);
  const float inv = total > 0.f ? 1.f / total : 0.f;
  for (int d = threadIdx.x; d < D; d += kReduceThreads) {
    float value = 0.f;
    for (int s = 0; s < used; ++s) value += exp2f(lse[s] - m) * part_out[(row * num_splits + s) * D + d];
    static_cast<T*>(p.out)[row * D + d] = from_float<T>(value * inv);
  }
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

Status check_args(const DecodeArgs& a) {
  HS_CHECK_ARG(a.q && a.k_cache && a.v_cache && a.out && a.block_tables && a.context_lens,
               "paged_attention_decode: q, k_cache, v_cache, out, block_tables and context_lens must be device pointers");
  HS_CHECK_ARG(a.dtype == AttnDType::kFloat16 || a.dtype == AttnDType::kBFloat16,
               "paged_attention_decode: dtype must be float16 or bfloat16");
  HS_CHECK_ARG(a.num_seqs > 0 && a.num_seqs <= 65535, "paged_attention_decode: num_seqs must be in [1, 65535], got ",
               a.num_seqs);
  HS_CHECK_ARG(a.num_heads > 0 && a.num_kv_heads > 0 && a.num_heads % a.num_kv_heads == 0,
               "paged_attention_decode: num_kv_heads (", a.num_kv_heads, ") must divide num_heads (", a.num_heads, ")");
  HS_CHECK_ARG(a.head_dim > 0 && a.head_dim % 8 == 0 && a.head_dim <= kMaxHeadDim,
               "paged_attention_decode: head_dim must be a multiple of 8 in [8, ", kMaxHeadDim, "], got ", a.head_dim);
  HS_CHECK_ARG(a.block_size > 0 && a.num_blocks > 0 && a.max_blocks_per_seq > 0,
               "paged_attention_decode: block_size, num_blocks and max_blocks_per_seq must be positive");
  HS_CHECK_ARG(a.max_context_len >= 0, "paged_attention_decode: max_context_len must be >= 0");
  HS_CHECK_ARG(aligned16(a.q) && aligned16(a.k_cache) && aligned16(a.v_cache),
               "paged_attention_decode: q, k_cache and v_cache must be 16-byte aligned");
  HS_CHECK_ARG(std::isfinite(a.scale), "paged_attention_decode: scale must be finite");
  HS_CHECK_ARG(num_splits_for(a) <= 65535, "paged_attention_decode: max_context_len ", a.max_context_len, " is too long");
  HS_CHECK_ARG(num_splits_for(a) == 1 || a.workspace,
               "paged_attention_decode: a workspace of paged_attention_workspace_size() bytes is needed");
  return Status::ok();
}

template <typename T, int kHeads>
Status launch(const DecodeArgs& a, cudaStream_t stream) {
  const int num_splits = num_splits_for(a);
  const int group = a.num_heads / a.num_kv_heads;
  float* part_out = static_cast<float*>(a.workspace);
  float* part_lse =
      part_out ? part_out + int64_t(a.num_seqs) * a.num_heads * num_splits * a.head_dim : nullptr;
  const dim3 grid(a.num_kv_heads * (group / kHeads), a.num_seqs, num_splits);
  paged_decode_partition_kernel<T, kHeads><<<grid, kThreads, 0, stream>>>(a, a.scale * kLog2e, num_splits, part_out,
                                                                          part_lse);
  HS_CUDA_CHECK_LAUNCH("paged_decode_partition_kernel");
  if (num_splits > 1) {
    paged_decode_reduce_kernel<T><<<dim3(a.num_heads, a.num_seqs), kReduceThreads, 0, stream>>>(a, num_splits, part_out,
                                                                                                part_lse);
    HS_CUDA_CHECK_LAUNCH("paged_decode_reduce_kernel");
  }
  return Status::ok();
}

template <typename T>
Status dispatch(const DecodeArgs& a, cudaStream_t stream) {
  const int group = a.num_heads / a.num_kv_heads;
  if (group % 8 == 0) return launch<T, 8>(a, stream);
  if (group % 4 == 0) return launch<T, 4>(a, stream);
  if (group % 2 == 0) return launch<T, 2>(a, stream);
  return launch<T, 1>(a, stream);
}

}  // namespace

size_t paged_attention_workspace_size(const DecodeArgs& args) {
  const int num_splits = num_splits_for(args);
  if (num_splits == 1) return 0;
  return size_t(args.num_seqs) * args.num_heads * num_splits * (args.head_dim + 1) * sizeof(float);
}

Status paged_attention_decode(const DecodeArgs& args, cudaStream_t stream) {
  HS_RETURN_IF_ERROR(check_args(args));
  if (args.dtype == AttnDType::kFloat16) return dispatch<__half>(args, stream);
  return dispatch<__nv_bfloat16>(args, stream);
}

}  // namespace hs::cuda
