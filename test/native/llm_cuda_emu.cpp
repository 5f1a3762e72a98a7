// The CUDA LLM model's host code (native/backends/cuda/llm/cuda_llm_model.cpp: weight upload and
// layout, batch checks, the per-forward index arrays, the prefill/decode split and permutation,
// buffer sizes, every launcher's arguments) run without a GPU: the CUDA runtime is a host-memory
// stand-in (test/native/fake_cuda), and the device kernels it launches are emulated here on the host
// from their documented contracts (gemm.cuh, attention_types.h, llm_ops.cuh), with 16-bit rounding
// where the device rounds. Its logits are compared with the CPU LlmModel on the same bfloat16 /
// float16 weights: a prefill, decode steps, chunked prefill, a prefix-cache hit, a mixed batch,
// contexts past one 512-token decode partition (split-K workspace), GQA, qkv bias, tied and untied
// embeddings; then the typed errors, out-of-memory at load and memory accounting. AddressSanitizer
// catches any read or write past a buffer the model sized. The device kernels themselves are checked
// on a GPU by test/gpu/llm-cuda.test.ts. Build and run (from the repository root):
//   g++ -std=c++17 -O1 -g -fsanitize=address,undefined -Wall -Wextra -Itest/native/fake_cuda -Inative/include -Inative test/native/llm_cuda_emu.cpp native/backends/cuda/llm/cuda_llm_model.cpp native/kernels/cpu/llm/*.cpp native/core/status.cpp native/core/tensor.cpp native/core/dtype.cpp native/core/thread_pool.cpp native/core/work_queue.cpp -lpthread -o /tmp/llm_cuda_emu && /tmp/llm_cuda_emu
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/device_memory.h"
#include "backends/cuda/llm/cuda_llm_model.h"
#include "hs/devices.h"
#include "hs/dtype.h"
#include "kernels/cpu/llm/llm_model.h"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/llm_ops.cuh"
#include "kernels/cuda/paged_attention.cuh"

using namespace hs;

// ---------------------------------------------------------------------------------------------
// Fake runtime: allocations are tracked so that copies and kernels can be checked against them.
namespace {
struct Alloc {
  size_t bytes;
  bool pinned;
};
std::map<const char*, Alloc> g_allocs;
size_t g_free = size_t(8) << 30;       // what cudaMemGetInfo reports
size_t g_alloc_cap = size_t(8) << 30;  // device_alloc fails past it (set below g_free to fail an allocation)
size_t g_device_live = 0;
int g_failures = 0;
cudaError_t g_last = cudaSuccess;

void fail(const std::string& what) {
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  ++g_failures;
}

// Whether [p, p + n) lies inside one live allocation (device or pinned).
bool inside(const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  auto it = g_allocs.upper_bound(c);
  if (it == g_allocs.begin()) return false;
  --it;
  return c >= it->first && c + n <= it->first + it->second.bytes;
}
}  // namespace

cudaError_t cudaSetDevice(int) { return cudaSuccess; }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = reinterpret_cast<cudaStream_t>(new int(1));
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete reinterpret_cast<int*>(s);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (kind == cudaMemcpyHostToDevice && !inside(dst, bytes)) fail("cudaMemcpyAsync H2D destination outside an allocation");
  if (kind == cudaMemcpyDeviceToHost && !inside(src, bytes)) fail("cudaMemcpyAsync D2H source outside an allocation");
  std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) {
  if (!inside(dst, bytes)) fail("cudaMemsetAsync outside an allocation");
  std::memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_b, size_t* total_b) {
  *free_b = g_free > g_device_live ? g_free - g_device_live : 0;
  *total_b = size_t(80) << 30;
  return cudaSuccess;
}
cudaError_t cudaGetLastError() {
  const cudaError_t e = g_last;
  g_last = cudaSuccess;
  return e;
}
const char* cudaGetErrorName(cudaError_t e) { return e == cudaErrorMemoryAllocation ? "cudaErrorMemoryAllocation" : "cudaError"; }
const char* cudaGetErrorString(cudaError_t e) { return e == cudaErrorMemoryAllocation ? "out of memory" : "error"; }

namespace hs {
namespace {
int64_t g_dev_bytes = 0, g_pin_bytes = 0;
}
CudaMemoryStats cuda_memory_stats() { return CudaMemoryStats{g_dev_bytes, g_pin_bytes}; }
void cuda_memory_add(int64_t d, int64_t p) {
  g_dev_bytes += d;
  g_pin_bytes += p;
}
const CudaInfo& cuda_info() {
  static CudaInfo info = [] {
    CudaInfo i;
    i.compiled = i.available = true;
    i.devices.push_back({0, "Emulated H100", 90, size_t(80) << 30, 132});
    return i;
  }();
  return info;
}

namespace cuda {
cudaError_t device_alloc(void** ptr, size_t bytes) {
  if (g_device_live + bytes > g_alloc_cap) {
    g_last = cudaErrorMemoryAllocation;
    return cudaErrorMemoryAllocation;
  }
  *ptr = std::malloc(bytes);
  std::memset(*ptr, 0xa5, bytes);  // garbage, as fresh device memory is
  g_allocs[static_cast<char*>(*ptr)] = Alloc{bytes, false};
  g_device_live += bytes;
  cuda_memory_add((int64_t)bytes, 0);
  return cudaSuccess;
}
void device_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  auto it = g_allocs.find(static_cast<char*>(ptr));
  if (it == g_allocs.end() || it->second.bytes != bytes || it->second.pinned) fail("device_free of an unknown block or size");
  else g_allocs.erase(it);
  g_device_live -= bytes;
  std::free(ptr);
  cuda_memory_add(-(int64_t)bytes, 0);
}
cudaError_t pinned_alloc(void** ptr, size_t bytes) {
  *ptr = std::malloc(bytes);
  g_allocs[static_cast<char*>(*ptr)] = Alloc{bytes, true};
  cuda_memory_add(0, (int64_t)bytes);
  return cudaSuccess;
}
void pinned_free(void* ptr, size_t bytes) {
  if (!ptr) return;
  auto it = g_allocs.find(static_cast<char*>(ptr));
  if (it == g_allocs.end() || it->second.bytes != bytes || !it->second.pinned) fail("pinned_free of an unknown block or size");
  else g_allocs.erase(it);
  std::free(ptr);
  cuda_memory_add(0, -(int64_t)bytes);
}

// -------------------------------------------------------------------------------------------
// Emulated kernels: the documented contracts, on host memory, checking what they read and write.
namespace {
float ld16(AttnDType t, const void* p, int64_t i) {
  const uint16_t b = static_cast<const uint16_t*>(p)[i];
  return t == AttnDType::kFloat16 ? half_to_float(b) : bf16_to_float(b);
}
void st16(AttnDType t, void* p, int64_t i, float v) {
  static_cast<uint16_t*>(p)[i] = t == AttnDType::kFloat16 ? float_to_half(v) : float_to_bf16(v);
}
float round16(bool half, float v) { return half ? half_to_float(float_to_half(v)) : bf16_to_float(float_to_bf16(v)); }
void need(bool ok, const std::string& what) {
  if (!ok) fail(what);
}
}  // namespace

Status gemm(const GemmArgs& g, GemmKernel kernel, MmaType mma, cudaStream_t) {
  need(g.batch.rank == 0, "gemm: the LLM uses unbatched GEMMs");
  const bool int8 = g.b_elem == GemmElem::kI8;
  need(g.a_elem == GemmElem::kF32 && g.b_elem != GemmElem::kF32, "gemm: A float32, B 16-bit or int8");
  need(kernel != GemmKernel::kSimt, "gemm: the emulated device is sm_90, tensor-core tactics expected");
  need((mma == MmaType::kBF16) == (g.b_elem == GemmElem::kBF16 || int8), "gemm: MMA type = B's type (bfloat16 for int8)");
  need(inside(g.a, (size_t)((g.M - 1) * g.a_rs + (g.K - 1) * g.a_cs + 1) * 4), "gemm: A out of its allocation");
  need(inside(g.b, (size_t)((g.K - 1) * g.b_rs + (g.N - 1) * g.b_cs + 1) * (int8 ? 1 : 2)), "gemm: B out of its allocation");
  need(int8 == (g.b_scale != nullptr), "gemm: scales exactly with int8 B");
  if (int8) need(inside(g.b_scale, (size_t)g.N * 4), "gemm: B's scales out of their allocation");
  need(inside(g.c, (size_t)((g.M - 1) * g.c_rs + g.N) * 4), "gemm: C out of its allocation");
  if (g.bias) need(inside(g.bias, (size_t)g.N * 4), "gemm: bias out of its allocation");
  if (g.d) need(inside(g.d, (size_t)((g.M - 1) * g.d_rs + (g.N - 1) * g.d_cs + 1) * 4), "gemm: D out of its allocation");
  const bool half = mma == MmaType::kF16;
  const AttnDType bt = g.b_elem == GemmElem::kF16 ? AttnDType::kFloat16 : AttnDType::kBFloat16;
  const float* a = static_cast<const float*>(g.a);
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t n = 0; n < g.N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < g.K; ++k) {
        const int64_t bi = k * g.b_rs + n * g.b_cs;
        const float b = int8 ? (float)static_cast<const int8_t*>(g.b)[bi] : ld16(bt, g.b, bi);
        acc += (double)round16(half, a[m * g.a_rs + k * g.a_cs]) * b;
      }
      if (int8) acc *= g.b_scale[n];
      float v = g.alpha * (float)acc;
      if (g.bias) v += g.bias[n];
      if (g.d) v += g.beta * g.d[m * g.d_rs + n * g.d_cs];
      g.c[m * g.c_rs + n] = v;
    }
  return Status::ok();
}

Status flash_attention_prefill(const PrefillArgs& a, cudaStream_t) {
  need(a.cu_seqlens_q && a.cu_seqlens_k && a.causal && !a.bias && !a.k_valid_lens && !a.lse, "prefill: varlen causal expected");
  need(a.num_heads % a.num_kv_heads == 0 && a.head_dim <= 256, "prefill: heads / head_dim");
  const int H = a.num_heads, KH = a.num_kv_heads, D = a.head_dim, group = H / KH;
  const int total_q = a.cu_seqlens_q[a.batch], total_k = a.cu_seqlens_k[a.batch];
  need(a.cu_seqlens_q[0] == 0 && a.cu_seqlens_k[0] == 0, "prefill: cu_seqlens start at 0");
  need(inside(a.q, (size_t)total_q * H * D * 2) && inside(a.out, (size_t)total_q * H * D * 2), "prefill: q/out out of their allocation");
  need(inside(a.k, (size_t)total_k * KH * D * 2) && inside(a.v, (size_t)total_k * KH * D * 2), "prefill: k/v out of their allocation");
  for (int b = 0; b < a.batch; ++b) {
    const int q0 = a.cu_seqlens_q[b], sq = a.cu_seqlens_q[b + 1] - q0, k0 = a.cu_seqlens_k[b], sk = a.cu_seqlens_k[b + 1] - k0;
    need(sq >= 0 && sk >= 0 && sq <= a.max_seqlen_q && sk <= a.max_seqlen_k, "prefill: a sequence exceeds max_seqlen_q/k");
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < sq; ++i) {
        const int kh = h / group, limit = i + sk - sq;  // causal, aligned to the last key
        std::vector<double> s;
        double mx = -INFINITY;
        for (int j = 0; j <= limit && j < sk; ++j) {
          double dot = 0;
          for (int d = 0; d < D; ++d)
            dot += (double)ld16(a.dtype, a.q, ((int64_t)(q0 + i) * H + h) * D + d) * ld16(a.dtype, a.k, ((int64_t)(k0 + j) * KH + kh) * D + d);
          s.push_back(dot * a.scale);
          mx = std::max(mx, s.back());
        }
        double sum = 0;
        for (double& x : s) sum += (x = std::exp(x - mx));
        for (int d = 0; d < D; ++d) {
          double o = 0;
          for (size_t j = 0; j < s.size(); ++j) o += s[j] * ld16(a.dtype, a.v, ((int64_t)(k0 + (int)j) * KH + kh) * D + d);
          st16(a.dtype, a.out, ((int64_t)(q0 + i) * H + h) * D + d, s.empty() ? 0.f : (float)(o / sum));
        }
      }
  }
  return Status::ok();
}

size_t paged_attention_workspace_size(const DecodeArgs& a) {
  const int splits = a.max_context_len > 0 ? (a.max_context_len + 511) / 512 : 1;
  return splits == 1 ? 0 : size_t(a.num_seqs) * a.num_heads * splits * (a.head_dim + 1) * sizeof(float);
}

Status paged_attention_decode(const DecodeArgs& a, cudaStream_t) {
  need(a.head_dim % 8 == 0 && a.head_dim <= 256, "decode: head_dim");
  for (const void* p : {a.q, a.k_cache, a.v_cache}) need(reinterpret_cast<uintptr_t>(p) % 16 == 0, "decode: 16-byte alignment");
  const size_t ws = paged_attention_workspace_size(a);
  if (ws) need(a.workspace && inside(a.workspace, ws), "decode: workspace missing or too small");
  const int H = a.num_heads, KH = a.num_kv_heads, D = a.head_dim, group = H / KH, bs = a.block_size;
  const int64_t pool = (int64_t)a.num_blocks * bs * KH * D;
  need(inside(a.k_cache, (size_t)pool * 2) && inside(a.v_cache, (size_t)pool * 2), "decode: cache pools out of their allocation");
  need(inside(a.q, (size_t)a.num_seqs * H * D * 2) && inside(a.out, (size_t)a.num_seqs * H * D * 2), "decode: q/out out of their allocation");
  need(inside(a.block_tables, (size_t)a.num_seqs * a.max_blocks_per_seq * 4) && inside(a.context_lens, (size_t)a.num_seqs * 4),
       "decode: tables out of their allocation");
  for (int s = 0; s < a.num_seqs; ++s) {
    const int ctx = a.context_lens[s];
    need(ctx <= a.max_context_len && ctx <= a.max_blocks_per_seq * bs, "decode: context beyond max_context_len or the table");
    for (int h = 0; h < H; ++h) {
      const int kh = h / group;
      std::vector<double> sc;
      double mx = -INFINITY;
      for (int j = 0; j < ctx; ++j) {
        const int blk = a.block_tables[s * a.max_blocks_per_seq + j / bs];
        need(blk >= 0 && blk < a.num_blocks, "decode: block id out of range");
        const int64_t row = ((int64_t)blk * bs + j % bs) * KH + kh;
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += (double)ld16(a.dtype, a.q, ((int64_t)s * H + h) * D + d) * ld16(a.dtype, a.k_cache, row * D + d);
        sc.push_back(dot * a.scale);
        mx = std::max(mx, sc.back());
      }
      double sum = 0;
      for (double& x : sc) sum += (x = std::exp(x - mx));
      for (int d = 0; d < D; ++d) {
        double o = 0;
        for (int j = 0; j < ctx; ++j) {
          const int blk = a.block_tables[s * a.max_blocks_per_seq + j / bs];
          o += sc[(size_t)j] * ld16(a.dtype, a.v_cache, (((int64_t)blk * bs + j % bs) * KH + kh) * D + d);
        }
        st16(a.dtype, a.out, ((int64_t)s * H + h) * D + d, ctx ? (float)(o / sum) : 0.f);
      }
    }
  }
  return Status::ok();
}

Status llm_embed(AttnDType t, const void* table, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n, float* out, cudaStream_t) {
  need(inside(table, (size_t)(vocab * dim) * 2) && inside(out, (size_t)(n * dim) * 4) && inside(tokens, (size_t)n * 4), "embed: bounds");
  for (int64_t i = 0; i < n; ++i) {
    need(tokens[i] >= 0 && tokens[i] < vocab, "embed: token id");
    for (int64_t d = 0; d < dim; ++d) out[i * dim + d] = ld16(t, table, (int64_t)tokens[i] * dim + d);
  }
  return Status::ok();
}

Status llm_embed_int8(const int8_t* table, const float* scales, int64_t vocab, int64_t dim, const int32_t* tokens, int64_t n,
                      float* out, cudaStream_t) {
  need(inside(table, (size_t)(vocab * dim)) && inside(scales, (size_t)vocab * 4) && inside(out, (size_t)(n * dim) * 4) &&
           inside(tokens, (size_t)n * 4),
       "embed_int8: bounds");
  for (int64_t i = 0; i < n; ++i) {
    need(tokens[i] >= 0 && tokens[i] < vocab, "embed_int8: token id");
    for (int64_t d = 0; d < dim; ++d) out[i * dim + d] = (float)table[(int64_t)tokens[i] * dim + d] * scales[tokens[i]];
  }
  return Status::ok();
}

Status llm_rms_norm(const float* x, const int32_t* rows, int64_t n_rows, int64_t x_rows, int64_t dim, const float* w, float eps,
                    float* out, cudaStream_t) {
  need(inside(x, (size_t)(x_rows * dim) * 4) && inside(out, (size_t)(n_rows * dim) * 4) && inside(w, (size_t)dim * 4), "rms_norm: bounds");
  if (rows) need(inside(rows, (size_t)n_rows * 4), "rms_norm: rows bounds");
  for (int64_t r = 0; r < n_rows; ++r) {
    const int64_t src = rows ? rows[r] : r;
    need(src >= 0 && src < x_rows, "rms_norm: row index");
    float ss = 0;
    for (int64_t i = 0; i < dim; ++i) ss += x[src * dim + i] * x[src * dim + i];
    const float inv = 1.f / std::sqrt(ss / (float)dim + eps);
    for (int64_t i = 0; i < dim; ++i) out[r * dim + i] = x[src * dim + i] * inv * w[i];
  }
  return Status::ok();
}

Status llm_rope_qkv(const RopeQkvArgs& a, cudaStream_t) {
  const int D = a.head_dim, half = D / 2;
  const int64_t qd = (int64_t)a.heads * D, kvd = (int64_t)a.kv_heads * D, stride = qd + 2 * kvd;
  need(inside(a.qkv, (size_t)(a.n_tokens * stride) * 4) && inside(a.q_out, (size_t)(a.n_tokens * qd) * 2), "rope: qkv/q bounds");
  need(inside(a.k_cache, (size_t)(a.num_slots * kvd) * 2) && inside(a.v_cache, (size_t)(a.num_slots * kvd) * 2), "rope: cache bounds");
  need(inside(a.positions, (size_t)a.n_tokens * 4) && inside(a.slots, (size_t)a.n_tokens * 4) && inside(a.perm, (size_t)a.n_tokens * 4) &&
       inside(a.inv_freq, (size_t)half * 4), "rope: index bounds");
  std::vector<bool> seen((size_t)a.n_tokens);
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const int32_t qrow = a.perm[t], slot = a.slots[t];
    need(qrow >= 0 && qrow < a.n_tokens && !seen[(size_t)qrow], "rope: perm is not a permutation");
    need(slot >= 0 && slot < a.num_slots, "rope: slot out of range");
    if (qrow < 0 || qrow >= a.n_tokens || slot < 0 || slot >= a.num_slots) continue;
    seen[(size_t)qrow] = true;
    const float pos = (float)a.positions[t];
    const float* src = a.qkv + t * stride;
    auto rotate = [&](const float* x, int heads, void* dst) {
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i) {
          const float angle = pos * a.inv_freq[i], c = std::cos(angle) * a.attention_scaling, s = std::sin(angle) * a.attention_scaling;
          const float x0 = x[h * D + i], x1 = x[h * D + i + half];
          st16(a.dtype, dst, h * D + i, x0 * c - x1 * s);
          st16(a.dtype, dst, h * D + i + half, x1 * c + x0 * s);
        }
    };
    rotate(src, a.heads, static_cast<char*>(a.q_out) + (size_t)(qrow * qd) * 2);
    rotate(src + qd, a.kv_heads, static_cast<char*>(a.k_cache) + (size_t)(slot * kvd) * 2);
    for (int64_t e = 0; e < kvd; ++e) st16(a.dtype, static_cast<char*>(a.v_cache) + (size_t)(slot * kvd) * 2, e, src[qd + kvd + e]);
  }
  return Status::ok();
}

Status llm_gather_kv(const void* kc, const void* vc, int64_t num_slots, int64_t row, const int32_t* slots, int64_t n, void* ko, void* vo,
                     cudaStream_t) {
  need(row % 8 == 0, "gather: row_elems % 8");
  need(inside(kc, (size_t)(num_slots * row) * 2) && inside(vc, (size_t)(num_slots * row) * 2), "gather: cache bounds");
  need(inside(ko, (size_t)(n * row) * 2) && inside(vo, (size_t)(n * row) * 2) && inside(slots, (size_t)n * 4), "gather: out bounds");
  for (int64_t r = 0; r < n; ++r) {
    need(slots[r] >= 0 && slots[r] < num_slots, "gather: slot out of range");
    std::memcpy(static_cast<char*>(ko) + r * row * 2, static_cast<const char*>(kc) + (int64_t)slots[r] * row * 2, (size_t)row * 2);
    std::memcpy(static_cast<char*>(vo) + r * row * 2, static_cast<const char*>(vc) + (int64_t)slots[r] * row * 2, (size_t)row * 2);
  }
  return Status::ok();
}

Status llm_unpermute_to_float(AttnDType t, const void* x, const int32_t* perm, int64_t n, int64_t dim, float* out, cudaStream_t) {
  need(inside(x, (size_t)(n * dim) * 2) && inside(out, (size_t)(n * dim) * 4) && inside(perm, (size_t)n * 4), "unpermute: bounds");
  for (int64_t r = 0; r < n; ++r)
    for (int64_t d = 0; d < dim; ++d) out[r * dim + d] = ld16(t, x, (int64_t)perm[r] * dim + d);
  return Status::ok();
}

Status llm_silu_mul(const float* gu, int64_t n, int64_t inter, float* out, cudaStream_t) {
  need(inside(gu, (size_t)(n * 2 * inter) * 4) && inside(out, (size_t)(n * inter) * 4), "silu_mul: bounds");
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < inter; ++i) {
      const float g = gu[t * 2 * inter + i], u = gu[t * 2 * inter + inter + i];
      out[t * inter + i] = g / (1.f + std::exp(-g)) * u;
    }
  return Status::ok();
}

}  // namespace cuda
}  // namespace hs

// ---------------------------------------------------------------------------------------------
// The driver.
namespace {

std::string str(const Status& s) { return s.is_ok() ? "ok" : std::string(status_code_name(s.code())) + ": " + s.message(); }

using llm::CudaLlmModel;
using llm::LlmBatch;
using llm::LlmConfig;
using llm::LlmModel;
using llm::RawTensor;

struct Spec {
  const char* name;
  int64_t hidden, heads, kv_heads, inter, layers, vocab;
  bool bias, tie;
  DType dtype;
  bool int8 = false;  // weightType int8 on both models
};

struct TestModel {
  LlmConfig config;
  std::vector<RawTensor> tensors;
  std::string path;
};

TestModel make_model(const Spec& s, unsigned seed) {
  TestModel m;
  LlmConfig& c = m.config;
  c.hidden_size = s.hidden;
  c.num_layers = s.layers;
  c.num_heads = s.heads;
  c.num_kv_heads = s.kv_heads;
  c.head_dim = s.hidden / s.heads;
  c.intermediate_size = s.inter;
  c.vocab_size = s.vocab;
  c.rms_norm_eps = 1e-6f;
  c.qkv_bias = s.bias;
  c.tie_word_embeddings = s.tie;
  for (int64_t i = 0; i < c.head_dim / 2; ++i) c.inv_freq.push_back((float)std::pow(10000.0, -2.0 * (double)i / (double)c.head_dim));
  char tmpl[] = "/tmp/hs-llm-emu-XXXXXX";
  const int fd = mkstemp(tmpl);
  m.path = tmpl;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  std::vector<uint8_t> bytes;
  struct Pending {
    std::string name;
    Shape shape;
    size_t offset, size;
    DType dtype;
  };
  std::vector<Pending> pending;
  auto add = [&](const std::string& name, Shape shape, float scale, float base, DType dtype) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const size_t esz = dtype == DType::kFloat32 ? 4 : 2;
    const size_t offset = bytes.size();
    bytes.resize(offset + (size_t)n * esz);
    for (int64_t i = 0; i < n; ++i) {
      const float v = base + scale * uni(rng);
      if (dtype == DType::kFloat32) std::memcpy(&bytes[offset + (size_t)i * 4], &v, 4);
      else {
        const uint16_t b = dtype == DType::kFloat16 ? float_to_half(v) : float_to_bf16(v);
        std::memcpy(&bytes[offset + (size_t)i * 2], &b, 2);
      }
    }
    pending.push_back({name, shape, offset, (size_t)n * esz, dtype});
  };
  const int64_t H = s.hidden, qd = s.heads * c.head_dim, kvd = s.kv_heads * c.head_dim;
  const float w = 1.f / std::sqrt((float)H);
  add("model.embed_tokens.weight", {s.vocab, H}, 1.f, 0.f, s.dtype);
  if (!s.tie) add("lm_head.weight", {s.vocab, H}, w, 0.f, s.dtype);
  add("model.norm.weight", {H}, 0.2f, 1.f, s.dtype);
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {H}, 0.2f, 1.f, s.dtype);
    add(p + "post_attention_layernorm.weight", {H}, 0.2f, 1.f, s.dtype);
    add(p + "self_attn.q_proj.weight", {qd, H}, 2 * w, 0.f, s.dtype);
    add(p + "self_attn.k_proj.weight", {kvd, H}, 2 * w, 0.f, s.dtype);
    add(p + "self_attn.v_proj.weight", {kvd, H}, w, 0.f, s.dtype);
    add(p + "self_attn.o_proj.weight", {H, qd}, w, 0.f, s.dtype);
    if (s.bias) {
      add(p + "self_attn.q_proj.bias", {qd}, 0.5f, 0.f, s.dtype);
      add(p + "self_attn.k_proj.bias", {kvd}, 0.5f, 0.f, s.dtype);
      add(p + "self_attn.v_proj.bias", {kvd}, 0.5f, 0.f, s.dtype);
    }
    add(p + "mlp.gate_proj.weight", {s.inter, H}, w, 0.f, s.dtype);
    add(p + "mlp.up_proj.weight", {s.inter, H}, w, 0.f, s.dtype);
    add(p + "mlp.down_proj.weight", {H, s.inter}, 1.f / std::sqrt((float)s.inter), 0.f, s.dtype);
  }
  if (write(fd, bytes.data(), bytes.size()) != (ssize_t)bytes.size()) std::abort();
  close(fd);
  auto file = llm::MappedFile::open(m.path);
  if (!file.is_ok()) std::abort();
  std::shared_ptr<llm::MappedFile> f = file.take();
  for (const Pending& t : pending) m.tensors.push_back(RawTensor{t.name, f, t.dtype, t.shape, t.offset, t.size});
  return m;
}

struct Seq {
  std::vector<int32_t> tokens;
  int32_t start;
  std::vector<int32_t> table;
  int32_t logits;  // -1: all
};

LlmBatch batch_of(const std::vector<Seq>& seqs) {
  LlmBatch b;
  size_t max_blocks = 0;
  for (const Seq& s : seqs) max_blocks = std::max(max_blocks, s.table.size());
  b.max_blocks = (int64_t)max_blocks;
  for (const Seq& s : seqs) {
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      b.tokens.push_back(s.tokens[i]);
      b.positions.push_back(s.start + (int32_t)i);
    }
    b.query_lens.push_back((int32_t)s.tokens.size());
    for (size_t i = 0; i < max_blocks; ++i) b.block_tables.push_back(i < s.table.size() ? s.table[i] : -7);  // -7: padding
    b.logits_per_seq.push_back(s.logits < 0 ? (int32_t)s.tokens.size() : s.logits);
  }
  return b;
}

std::vector<int32_t> range(int32_t a, int32_t b) {
  std::vector<int32_t> r;
  for (int32_t i = a; i < b; ++i) r.push_back(i);
  return r;
}

// Runs the same batch on both models and compares every logits row.
void same(LlmModel& cpu, CudaLlmModel& gpu, const std::vector<Seq>& seqs, double tol, const std::string& what) {
  const LlmBatch b = batch_of(seqs);
  std::vector<float> want, got;
  Status s1 = cpu.forward(b, &want), s2 = gpu.forward(b, &got);
  if (!s1.is_ok() || !s2.is_ok()) {
    fail(what + ": forward failed: cpu " + str(s1) + " / cuda " + str(s2));
    return;
  }
  if (want.size() != got.size()) {
    fail(what + ": logits sizes differ");
    return;
  }
  double diff = 0, ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::isfinite(got[i]) ? (double)std::fabs(got[i] - want[i]) : INFINITY);
    ref = std::max(ref, (double)std::fabs(want[i]));
  }
  const double err = want.empty() ? 0 : diff / ref;
  std::printf("  %-58s rel err %.2e %s\n", what.c_str(), err, err < tol ? "ok" : "FAIL");
  if (!(err < tol)) fail(what);
}

void expect_error(CudaLlmModel& gpu, const LlmBatch& b, StatusCode code, const char* needle, const std::string& what) {
  std::vector<float> out;
  Status s = gpu.forward(b, &out);
  if (s.is_ok() || s.code() != code || s.message().find(needle) == std::string::npos)
    fail(what + ": expected an error containing '" + needle + "', got " + str(s));
  else std::printf("  %-58s ok (%s)\n", what.c_str(), s.message().c_str());
}

void run_model(const Spec& spec) {
  std::printf("%s\n", spec.name);
  TestModel tm = make_model(spec, 7);
  llm::LlmOptions co;
  co.threads = 1;
  co.num_blocks = 256;
  co.block_size = 4;
  llm::CudaLlmOptions go;
  go.num_blocks = 256;
  go.block_size = 4;
  if (spec.int8) co.weight_type = go.weight_type = llm::WeightType::kInt8;
  auto cpu_r = LlmModel::create(tm.config, tm.tensors, co);
  auto gpu_r = CudaLlmModel::create(tm.config, tm.tensors, go);
  if (!cpu_r.is_ok() || !gpu_r.is_ok()) {
    fail(std::string(spec.name) + ": create failed: " + str(cpu_r.status()) + " / " + str(gpu_r.status()));
    return;
  }
  LlmModel& cpu = *cpu_r.value();
  CudaLlmModel& gpu = *gpu_r.value();
  // The CPU model keeps float32 checkpoints in float32: the CUDA model's bfloat16 weights are then
  // one more rounding, so the bound is the bfloat16 one there too. int8: both models hold the same
  // quantised weights; the CUDA one rounds activations to bfloat16 at each GEMM.
  if (spec.int8 && std::string(gpu.weight_type()) != "int8") fail("int8 model reports weight type " + std::string(gpu.weight_type()));
  const double u = std::string(gpu.kv_cache_type()) == "float16" ? std::pow(2.0, -11) : std::pow(2.0, -8);
  const double tol = 8 * u;
  std::mt19937 rng(3);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 20; ++i) prompt.push_back((int32_t)(rng() % (unsigned)spec.vocab));
  auto slice = [&](int a, int b) { return std::vector<int32_t>(prompt.begin() + a, prompt.begin() + b); };

  same(cpu, gpu, {{prompt, 0, range(0, 5), -1}}, tol, "prefill of 20 tokens");
  for (int p = 12; p < 20; ++p) {
    if (p == 12) same(cpu, gpu, {{slice(0, 12), 0, range(5, 10), 0}}, tol, "prefill of 12 tokens, no logits");
    same(cpu, gpu, {{{prompt[(size_t)p]}, p, range(5, 10), -1}}, tol, "decode at position " + std::to_string(p));
  }
  same(cpu, gpu, {{slice(0, 7), 0, range(10, 15), -1}}, tol, "chunk 0..7");
  same(cpu, gpu, {{slice(7, 13), 7, range(10, 15), -1}}, tol, "chunk 7..13 (cached context)");
  same(cpu, gpu, {{slice(13, 20), 13, range(10, 15), 2}}, tol, "chunk 13..20 (cached context), 2 logits rows");
  // Prefix hit: blocks 10, 11 hold positions 0..7 of the prompt; a new sequence continues from 8.
  std::vector<int32_t> other = {9, 8, 7, 6, 5, 4, 3};
  same(cpu, gpu, {{other, 8, {10, 11, 15, 16, 17}, -1}}, tol, "prefix-cache hit: new chunk after 2 shared blocks");
  same(cpu, gpu, {{{1}, 15, {10, 11, 15, 16, 17}, -1}}, tol, "decode after the prefix-hit chunk");
  // A mixed batch: decode, fresh prefill, chunk with context, decode on shared blocks, interleaved.
  same(cpu, gpu, {{slice(0, 12), 0, {18, 19, 20}, 0}, {slice(0, 8), 0, {21, 22}, 0}}, tol, "mixed batch set-up (two prefills, no logits)");
  same(cpu, gpu,
       {{{prompt[12]}, 12, {18, 19, 20, 23}, -1},
        {slice(0, 9), 0, {24, 25, 26}, -1},
        {slice(8, 17), 8, {21, 22, 27, 28, 29}, 3},
        {{prompt[8]}, 8, {18, 19, 30}, -1}},
       tol, "mixed batch: decode, prefill, chunk with context, decode");
  // Long contexts: 600 cached tokens (two 512-token decode partitions: the split-K workspace).
  std::vector<int32_t> longp;
  for (int i = 0; i < 600; ++i) longp.push_back((int32_t)(rng() % (unsigned)spec.vocab));
  same(cpu, gpu, {{longp, 0, range(100, 250), 1}}, tol, "prefill of 600 tokens");
  same(cpu, gpu, {{{5}, 600, range(100, 251), -1}, {{6}, 15, {10, 11, 15, 16, 17}, -1}}, tol, "decode at 600 (2 partitions) + another");

  // Errors: typed, and the model still works after them.
  LlmBatch good = batch_of({{{1, 2}, 0, {0}, 1}});
  LlmBatch bad = good;
  bad.tokens[1] = (int32_t)spec.vocab;
  expect_error(gpu, bad, StatusCode::kInvalidArgument, "vocabulary", "token id past the vocabulary");
  bad = good;
  bad.block_tables[0] = 256;
  expect_error(gpu, bad, StatusCode::kInvalidArgument, "names block 256", "block id past the cache");
  bad = good;
  bad.positions = {1, 0};
  expect_error(gpu, bad, StatusCode::kInvalidArgument, "consecutive", "positions out of order");
  bad = good;
  bad.positions = {0, 4};
  expect_error(gpu, bad, StatusCode::kInvalidArgument, "block table", "position past the block table");
  bad = good;
  bad.query_lens = {3};
  expect_error(gpu, bad, StatusCode::kInvalidArgument, "queryLens", "queryLens past the tokens");
  same(cpu, gpu, {{prompt, 0, range(0, 5), -1}}, tol, "prefill again after the errors");
  unlink(tm.path.c_str());
}

}  // namespace

int main() {
  run_model({"llama bf16, head_dim 16, GQA 2, untied", 64, 4, 2, 96, 2, 101, false, false, DType::kBFloat16});
  run_model({"qwen2 bf16 (qkv bias), head_dim 64, GQA 4, tied", 256, 4, 1, 128, 2, 97, true, true, DType::kBFloat16});
  run_model({"llama f16, head_dim 32, MHA, untied", 128, 4, 4, 64, 3, 64, false, false, DType::kFloat16});
  run_model({"qwen2 f32 -> bf16 (qkv bias), head_dim 16, GQA 2", 64, 4, 2, 96, 2, 80, true, false, DType::kFloat32});
  run_model({"llama int8 from f16, head_dim 32, GQA 2, untied", 128, 4, 2, 96, 2, 90, false, false, DType::kFloat16, true});
  run_model({"qwen2 int8 from bf16 (qkv bias), head_dim 16, tied", 64, 4, 1, 96, 2, 70, true, true, DType::kBFloat16, true});

  std::printf("load errors and memory\n");
  {
    TestModel tm = make_model({"mem", 64, 4, 2, 96, 2, 50, false, true, DType::kBFloat16}, 9);
    llm::CudaLlmOptions o;
    o.num_blocks = 100000000;
    o.block_size = 16;
    auto r = CudaLlmModel::create(tm.config, tm.tensors, o);
    if (r.is_ok() || r.status().code() != StatusCode::kCudaOom) fail("a huge cache must give ERR_CUDA_OOM, got " + str(r.status()));
    else std::printf("  huge KV cache: %s\n", r.status().message().c_str());
    g_alloc_cap = 4096;  // cudaMemGetInfo says there is room, then cudaMalloc fails
    o.num_blocks = 8;
    o.block_size = 4;
    r = CudaLlmModel::create(tm.config, tm.tensors, o);
    if (r.is_ok() || r.status().code() != StatusCode::kCudaOom) fail("allocation failure must give ERR_CUDA_OOM, got " + str(r.status()));
    else std::printf("  failing cudaMalloc: %s\n", r.status().message().c_str());
    g_alloc_cap = size_t(8) << 30;
    o.weight_type = llm::WeightType::kFloat32;
    r = CudaLlmModel::create(tm.config, tm.tensors, o);
    if (r.is_ok() || r.status().code() != StatusCode::kUnsupportedOp) fail("float32 must give ERR_UNSUPPORTED_OP");
    o.weight_type.reset();
    LlmConfig odd = tm.config;
    odd.head_dim = 12;
    odd.inv_freq.resize(6);
    r = CudaLlmModel::create(odd, tm.tensors, o);
    if (r.is_ok() || r.status().code() != StatusCode::kUnsupportedOp) fail("head_dim 12 must give ERR_UNSUPPORTED_OP");
    if (cuda_memory_stats().device_bytes != 0 || cuda_memory_stats().pinned_bytes != 0) fail("failed loads left memory behind");
    r = CudaLlmModel::create(tm.config, tm.tensors, o);
    if (!r.is_ok()) fail("create: " + str(r.status()));
    else {
      std::vector<float> out;
      if (!r.value()->forward(batch_of({{{1, 2, 3}, 0, {0}, 1}}), &out).is_ok()) fail("forward");
      if ((int64_t)r.value()->device_bytes() != cuda_memory_stats().device_bytes) fail("device_bytes() disagrees with the counters");
      r = Status(StatusCode::kInternal, "drop");  // destroys the model
    }
    if (cuda_memory_stats().device_bytes != 0 || cuda_memory_stats().pinned_bytes != 0 || !g_allocs.empty())
      fail("memory left after the model was destroyed");
    else std::printf("  every device and pinned byte freed\n");
    unlink(tm.path.c_str());
  }
  std::printf(g_failures ? "llm_cuda_emu: %d FAILURES\n" : "llm_cuda_emu: all passed\n", g_failures);
  return g_failures ? 1 : 0;
}
