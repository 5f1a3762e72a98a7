// Launch shapes:
//   embed, unpermute, silu_mul: a grid-stride loop, one element per thread per step.
//   rms_norm: one block of 256 threads per row (grid-stride over rows), the sum of squares reduced
//     through warp shuffles and a small shared array, then one scaled write pass (the row stays in L1).
//   rope_qkv: one block per token (grid-stride over tokens); the token's cos/sin table (head_dim / 2
//     entries) is computed once into shared memory, then the block's threads walk the (head, pair)
//     items of q and k and the elements of v.
//   gather_kv: a grid-stride loop over 16-byte vectors of the K and V rows (row_elems % 8 == 0).
#include "kernels/cuda/llm_ops.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/warp_reduce.cuh"

namespace hs::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 65535;
constexpr int kMaxHalfDim = 128;  // head_dim <= 256

__device__ __forceinline__ float load16(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ float load16(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void store16(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }
__device__ __forceinline__ void store16(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16_rn(v); }

unsigned grid_for(int64_t work, int64_t per_block) {
  const int64_t blocks = (work + per_block - 1) / per_block;
  return (unsigned)(blocks < kMaxBlocks ? (blocks > 0 ? blocks : 1) : kMaxBlocks);
}

__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(signed char v) { return (float)v; }

// scales: null for 16-bit tables, the per-row scales of an int8 one.
template <typename T>
__global__ void embed_kernel(const T* table, const float* scales, int64_t vocab, int64_t dim, const int32_t* tokens,
                             int64_t n, float* out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n * dim; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t t = i / dim, d = i - t * dim;
    const int32_t id = tokens[t];
    if (id < 0 || id >= vocab) {
      out[i] = NAN;
      continue;
    }
    const float v = to_float(table[(int64_t)id * dim + d]);
    out[i] = scales ? v * scales[id] : v;
  }
}

__global__ void rms_norm_kernel(const float* x, const int32_t* rows, int64_t n_rows, int64_t x_rows, int64_t dim,
                                const float* weight, float eps, float* out) {
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const int64_t src = rows ? rows[r] : r;
    float* dst = out + r * dim;
    if (src < 0 || src >= x_rows) {
      for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = NAN;
      continue;  // uniform across the block: no barrier is skipped by part of it
    }
    const float* row = x + src * dim;
    float ss = 0.f;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) ss = fmaf(row[i], row[i], ss);
    const float inv = 1.f / sqrtf(device::block_sum<kThreads>(ss) / (float)dim + eps);
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = row[i] * inv * weight[i];
  }
}

template <typename T>
__global__ void rope_qkv_kernel(RopeQkvArgs a) {
  __shared__ float cos_s[kMaxHalfDim], sin_s[kMaxHalfDim];
  const int D = a.head_dim, half = D / 2;
  const int64_t q_dim = (int64_t)a.heads * D, kv_dim = (int64_t)a.kv_heads * D, stride = q_dim + 2 * kv_dim;
  T* q_out = static_cast<T*>(a.q_out);
  T* k_cache = static_cast<T*>(a.k_cache);
  T* v_cache = static_cast<T*>(a.v_cache);
  for (int64_t t = blockIdx.x; t < a.n_tokens; t += gridDim.x) {
    const float pos = (float)a.positions[t];
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
      const float angle = pos * a.inv_freq[i];
      cos_s[i] = cosf(angle) * a.attention_scaling;
      sin_s[i] = sinf(angle) * a.attention_scaling;
    }
    __syncthreads();
    const float* src = a.qkv + t * stride;
    const int32_t qrow = a.perm[t], slot = a.slots[t];
    const bool q_ok = qrow >= 0 && qrow < a.n_tokens, slot_ok = slot >= 0 && slot < a.num_slots;
    // q: heads * half rotation pairs.
    if (q_ok) {
      T* q = q_out + (int64_t)qrow * q_dim;
      for (int64_t p = threadIdx.x; p < (int64_t)a.heads * half; p += blockDim.x) {
        const int64_t h = p / half, i = p - h * half, base = h * D;
        const float x0 = src[base + i], x1 = src[base + i + half];
        store16(q, base + i, x0 * cos_s[i] - x1 * sin_s[i]);
        store16(q, base + i + half, x1 * cos_s[i] + x0 * sin_s[i]);
      }
    }
    if (slot_ok) {
      T* k = k_cache + (int64_t)slot * kv_dim;
      T* v = v_cache + (int64_t)slot * kv_dim;
      const float* ks = src + q_dim;
      const float* vs = src + q_dim + kv_dim;
      for (int64_t p = threadIdx.x; p < (int64_t)a.kv_heads * half; p += blockDim.x) {
        const int64_t h = p / half, i = p - h * half, base = h * D;
        const float x0 = ks[base + i], x1 = ks[base + i + half];
        store16(k, base + i, x0 * cos_s[i] - x1 * sin_s[i]);
        store16(k, base + i + half, x1 * cos_s[i] + x0 * sin_s[i]);
      }
      for (int64_t e = threadIdx.x; e < kv_dim; e += blockDim.x) store16(v, e, vs[e]);
    }
    __syncthreads();  // cos_s / sin_s are rewritten for the next token
  }
}

__global__ void gather_kv_kernel(const uint4* k_cache, const uint4* v_cache, int64_t num_slots, int64_t row_vecs,
                                 const int32_t* slots, int64_t n_rows, uint4* k_out, uint4* v_out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n_rows * row_vecs; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t r = i / row_vecs, e = i - r * row_vecs;
    const int32_t slot = slots[r];
    if (slot < 0 || slot >= num_slots) {
      // An impossible slot (the host checked them): zeros, so attention stays finite and wrong
      // enough for the GPU checks to see.
      k_out[i] = make_uint4(0, 0, 0, 0);
      v_out[i] = make_uint4(0, 0, 0, 0);
      continue;
    }
    k_out[i] = k_cache[(int64_t)slot * row_vecs + e];
    v_out[i] = v_cache[(int64_t)slot * row_vecs + e];
  }
}

template <typename T>
__global__ void unpermute_kernel(const T* x, const int32_t* perm, int64_t n, int64_t dim, float* out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n * dim; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t t = i / dim, d = i - t * dim;
    const int32_t src = perm[t];
    out[i] = src >= 0 && src < n ? load16(x, (int64_t)src * dim + d) : NAN;
  }
}

__global__ void silu_mul_kernel(const float* gu, int64_t n, int64_t inter, float* out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n * inter; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t t = i / inter, j = i - t * inter;
    const float g = gu[t * 2 * inter + j], u = gu[t * 2 * inter + inter + j];
    out[i] = g / (1.f + expf(-g)) * u;
  }
}

bool is_16bit(AttnDType d) { return d == AttnDType::kFloat16 || d == AttnDType::kBFloat16; }

}  // namespace

Status llm_embed(AttnDType dtype, const void* table, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n_tokens,
                 float* out, cudaStream_t stream) {
  HS_CHECK_ARG(is_16bit(dtype), "llm_embed: the table must be float16 or bfloat16");
  HS_CHECK_ARG(vocab > 0 && dim > 0 && n_tokens >= 0, "llm_embed: bad sizes (vocab ", vocab, ", dim ", dim, ", tokens ",
               n_tokens, ")");
  if (n_tokens == 0) return Status::ok();
  HS_CHECK_ARG(table && tokens && out, "llm_embed: null pointer");
  const unsigned grid = grid_for(n_tokens * dim, kThreads);
  if (dtype == AttnDType::kFloat16)
    embed_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __half*>(table), nullptr, vocab, dim, tokens, n_tokens, out);
  else
    embed_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(table), nullptr, vocab, dim, tokens,
                                                n_tokens, out);
  HS_CUDA_CHECK_LAUNCH("embed_kernel");
  return Status::ok();
}

Status llm_embed_int8(const int8_t* table, const float* row_scales, int64_t vocab, int64_t dim, const int32_t* tokens,
                      int64_t n_tokens, float* out, cudaStream_t stream) {
  HS_CHECK_ARG(vocab > 0 && dim > 0 && n_tokens >= 0, "llm_embed_int8: bad sizes (vocab ", vocab, ", dim ", dim,
               ", tokens ", n_tokens, ")");
  if (n_tokens == 0) return Status::ok();
  HS_CHECK_ARG(table && row_scales && tokens && out, "llm_embed_int8: null pointer");
  embed_kernel<<<grid_for(n_tokens * dim, kThreads), kThreads, 0, stream>>>(reinterpret_cast<const signed char*>(table),
                                                                             row_scales, vocab, dim, tokens, n_tokens, out);
  HS_CUDA_CHECK_LAUNCH("embed_kernel");
  return Status::ok();
}

Status llm_rms_norm(const float* x, const int32_t* rows, int64_t n_rows, int64_t x_rows, int64_t dim, const float* weight,
                    float eps, float* out, cudaStream_t stream) {
  HS_CHECK_ARG(n_rows >= 0 && x_rows >= 0 && dim > 0, "llm_rms_norm: bad sizes (rows ", n_rows, ", dim ", dim, ")");
  HS_CHECK_ARG(rows || n_rows <= x_rows, "llm_rms_norm: ", n_rows, " rows asked of ", x_rows);
  HS_CHECK_ARG(std::isfinite(eps) && eps >= 0.f, "llm_rms_norm: eps must be finite and >= 0");
  if (n_rows == 0) return Status::ok();
  HS_CHECK_ARG(x && weight && out, "llm_rms_norm: null pointer");
  rms_norm_kernel<<<grid_for(n_rows, 1), kThreads, 0, stream>>>(x, rows, n_rows, x_rows, dim, weight, eps, out);
  HS_CUDA_CHECK_LAUNCH("rms_norm_kernel");
  return Status::ok();
}

Status llm_rope_qkv(const RopeQkvArgs& a, cudaStream_t stream) {
  HS_CHECK_ARG(is_16bit(a.dtype), "llm_rope_qkv: dtype must be float16 or bfloat16");
  HS_CHECK_ARG(a.heads > 0 && a.kv_heads > 0 && a.head_dim > 0 && a.head_dim % 2 == 0 && a.head_dim / 2 <= kMaxHalfDim,
               "llm_rope_qkv: heads ", a.heads, ", kv_heads ", a.kv_heads, " and an even head_dim <= ", 2 * kMaxHalfDim,
               " are needed, got head_dim ", a.head_dim);
  HS_CHECK_ARG(a.n_tokens >= 0 && a.num_slots > 0, "llm_rope_qkv: bad sizes (tokens ", a.n_tokens, ", slots ", a.num_slots, ")");
  HS_CHECK_ARG(std::isfinite(a.attention_scaling), "llm_rope_qkv: attention_scaling must be finite");
  if (a.n_tokens == 0) return Status::ok();
  HS_CHECK_ARG(a.qkv && a.positions && a.slots && a.perm && a.inv_freq && a.q_out && a.k_cache && a.v_cache,
               "llm_rope_qkv: null pointer");
  const unsigned grid = grid_for(a.n_tokens, 1);
  if (a.dtype == AttnDType::kFloat16) rope_qkv_kernel<__half><<<grid, kThreads, 0, stream>>>(a);
  else rope_qkv_kernel<__nv_bfloat16><<<grid, kThreads, 0, stream>>>(a);
  HS_CUDA_CHECK_LAUNCH("rope_qkv_kernel");
  return Status::ok();
}

Status llm_gather_kv(const void* k_cache, const void* v_cache, int64_t num_slots, int64_t row_elems, const int32_t* slots,
                     int64_t n_rows, void* k_out, void* v_out, cudaStream_t stream) {
  HS_CHECK_ARG(row_elems > 0 && row_elems % 8 == 0, "llm_gather_kv: row_elems must be a positive multiple of 8, got ",
               row_elems);
  HS_CHECK_ARG(n_rows >= 0 && num_slots > 0, "llm_gather_kv: bad sizes (rows ", n_rows, ", slots ", num_slots, ")");
  if (n_rows == 0) return Status::ok();
  HS_CHECK_ARG(k_cache && v_cache && slots && k_out && v_out, "llm_gather_kv: null pointer");
  for (const void* p : {k_cache, v_cache, (const void*)k_out, (const void*)v_out})
    HS_CHECK_ARG(reinterpret_cast<uintptr_t>(p) % 16 == 0, "llm_gather_kv: K/V pointers must be 16-byte aligned");
  const int64_t row_vecs = row_elems / 8;
  gather_kv_kernel<<<grid_for(n_rows * row_vecs, kThreads), kThreads, 0, stream>>>(
      static_cast<const uint4*>(k_cache), static_cast<const uint4*>(v_cache), num_slots, row_vecs, slots, n_rows,
      static_cast<uint4*>(k_out), static_cast<uint4*>(v_out));
  HS_CUDA_CHECK_LAUNCH("gather_kv_kernel");
  return Status::ok();
}

Status llm_unpermute_to_float(AttnDType dtype, const void* x, const int32_t* perm, int64_t n_rows, int64_t dim, float* out,
                              cudaStream_t stream) {
  HS_CHECK_ARG(is_16bit(dtype), "llm_unpermute_to_float: dtype must be float16 or bfloat16");
  HS_CHECK_ARG(n_rows >= 0 && dim > 0, "llm_unpermute_to_float: bad sizes (rows ", n_rows, ", dim ", dim, ")");
  if (n_rows == 0) return Status::ok();
  HS_CHECK_ARG(x && perm && out, "llm_unpermute_to_float: null pointer");
  const unsigned grid = grid_for(n_rows * dim, kThreads);
  if (dtype == AttnDType::kFloat16)
    unpermute_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __half*>(x), perm, n_rows, dim, out);
  else
    unpermute_kernel<<<grid, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), perm, n_rows, dim, out);
  HS_CUDA_CHECK_LAUNCH("unpermute_kernel");
  return Status::ok();
}

Status llm_silu_mul(const float* gu, int64_t n_tokens, int64_t inter, float* out, cudaStream_t stream) {
  HS_CHECK_ARG(n_tokens >= 0 && inter > 0, "llm_silu_mul: bad sizes (tokens ", n_tokens, ", inter ", inter, ")");
  if (n_tokens == 0) return Status::ok();
  HS_CHECK_ARG(gu && out, "llm_silu_mul: null pointer");
  silu_mul_kernel<<<grid_for(n_tokens * inter, kThreads), kThreads, 0, stream>>>(gu, n_tokens, inter, out);
  HS_CUDA_CHECK_LAUNCH("silu_mul_kernel");
  return Status::ok();
}

}  // namespace hs::cuda
