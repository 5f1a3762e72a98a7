// Prefill attention, FlashAttention-2 style.
//
// Tensor-core kernel (sm_80+, head_dim 64/96/128): one CTA owns a 128-row query tile of one
// (sequence, head); each warp owns 32 rows (head_dim 64/96: two m16 tiles, so every K/V fragment read
// from shared memory feeds two MMAs; 4 warps, 32-row K/V tiles) or 16 rows (head_dim 128: 8 warps,
// 64-row K/V tiles). Q is staged once in shared memory and read as mma A fragments with ldmatrix
// (kept in registers when they fit). K/V tiles stream through a two-stage cp.async pipeline (tile
// j+1 loads while tile j computes). Per tile: S = Q K^T with mma.sync m16n8k16 (fp32
// accumulators), scores scaled into log2 units (softmax scale times log2 e folded into one multiply,
// so exp2 replaces exp), optional bias and masks (only on tiles that touch a mask edge), the online
// softmax (running row max and row sum, rescaling O), then O += P V with P converted to 16-bit in
// registers and V read with ldmatrix.trans. Shared rows are padded by 16 bytes, which puts the eight
// rows of every ldmatrix in distinct bank groups. The output goes back through shared memory as
// 16-byte stores; the log-sum-exp is written per row.
//
// General kernel (any sm >= 75, head_dim <= 256, and unaligned tensors): one warp per query row,
// keys visited one at a time with the same online softmax; lanes split the head dimension.
//
// HS_ATTENTION_KERNEL=sm90 (prefill_kernel_choice.h) sends what it covers to the Hopper wgmma kernel
// of flash_attention_sm90.cu instead.
#include "kernels/cuda/attention_device.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/flash_attention.cuh"
#include "kernels/cuda/flash_attention_sm90.cuh"
#include "kernels/cuda/prefill_kernel_choice.h"

#include <cmath>
#include <cstdint>

namespace hs::cuda {
namespace {

using device::kLog2e;

// Tile shape per head dim: each warp owns kWarpM m16 tiles of the 128-row query tile (two halve the
// shared-memory reads per MMA); at head_dim 128 two tiles per warp leave too few registers, so one.
template <int kHeadDim>
struct TcConfig {
  static constexpr int kBlockM = 128;                       // query rows per CTA
  static constexpr int kWarpM = kHeadDim >= 128 ? 1 : 2;    // m16 tiles per warp
  static constexpr int kBlockN = kWarpM == 1 ? 64 : 32;     // key/value rows per pipeline stage
  static constexpr int kWarps = kBlockM / (16 * kWarpM);
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kSmemBytes = (kBlockM + 4 * kBlockN) * (kHeadDim + 8) * 2;  // Q + 2 stages of K, V
};

template <typename T, int kHeadDim>
__global__ void __launch_bounds__(TcConfig<kHeadDim>::kThreads) flash_prefill_tc_kernel(const PrefillArgs p,
                                                                                       float scale_log2) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace device;
  constexpr int D = kHeadDim;
  using Config = TcConfig<kHeadDim>;
  constexpr int BM = Config::kBlockM, BN = Config::kBlockN;
  constexpr int kWarpM = Config::kWarpM;
  constexpr int kThreads = Config::kThreads;
  constexpr int kWarpRows = 16 * kWarpM;
  constexpr int LD = D + 8;  // padded shared row, in elements
  constexpr int kChunks = D / 8;
  // Q fragments stay in registers when they fit beside the accumulators; otherwise ldmatrix per tile.
  constexpr bool kQInRegs = kWarpM * D <= 128;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sQ = reinterpret_cast<T*>(smem_raw);
  T* sK = sQ + BM * LD;  // [2][BN][LD]
  T* sV = sK + 2 * BN * LD;

  const int m_block = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const SeqSpan qs = seq_span(p.cu_seqlens_q, b, p.max_seqlen_q);
  const SeqSpan ks = seq_span(p.cu_seqlens_k, b, p.max_seqlen_k);
  const int m0 = m_block * BM;
  if (m0 >= qs.len) return;
  const int kvh = h / (p.num_heads / p.num_kv_heads);
  int kv_valid = ks.len;
  if (p.k_valid_lens) kv_valid = min(kv_valid, max(p.k_valid_lens[b], 0));
  const int causal_shift = ks.len - qs.len;
  int n_end = kv_valid;
  if (p.causal) n_end = min(n_end, m0 + BM + causal_shift);
  const int n_blocks = n_end > 0 ? (n_end + BN - 1) / BN : 0;

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t q_stride = int64_t(p.num_heads) * D;
  const int64_t kv_stride = int64_t(p.num_kv_heads) * D;
  const T* q_base = static_cast<const T*>(p.q) + int64_t(qs.start) * q_stride + int64_t(h) * D;
  const T* k_base = static_cast<const T*>(p.k) + int64_t(ks.start) * kv_stride + int64_t(kvh) * D;
  const T* v_base = static_cast<const T*>(p.v) + int64_t(ks.start) * kv_stride + int64_t(kvh) * D;

  // rows [row0, row0 + rows) of a global [*, stride] matrix into a padded shared tile; rows at or
  // past `limit` are zero-filled.
  auto load_tile = [&](T* dst, const T* src, int64_t stride, int row0, int limit, int rows) {
    for (int c = tid; c < rows * kChunks; c += kThreads) {
      const int r = c / kChunks, ch = c % kChunks;
      const bool ok = row0 + r < limit;
      cp_async16(dst + r * LD + ch * 8, ok ? src + int64_t(row0 + r) * stride + ch * 8 : src, ok);
    }
  };
  auto load_kv = [&](int j, int stage) {
    load_tile(sK + stage * BN * LD, k_base, kv_stride, j * BN, kv_valid, BN);
    load_tile(sV + stage * BN * LD, v_base, kv_stride, j * BN, kv_valid, BN);
  };
  // A fragments of Q rows [mi * 16, mi * 16 + 16) of this warp, columns [kk * 16, kk * 16 + 16).
  auto load_q_frag = [&](uint32_t (&frag)[4], int mi, int kk) {
    const int r = warp * kWarpRows + mi * 16 + (lane % 8) + ((lane / 8) % 2) * 8;
    ldmatrix_x4(frag, sQ + r * LD + kk * 16 + (lane / 16) * 8);
  };

  load_tile(sQ, q_base, q_stride, m0, qs.len, BM);
  if (n_blocks > 0) load_kv(0, 0);
  cp_async_commit();

  const int warp_row0 = m0 + warp * kWarpRows;  // first local query row of this warp
  const int row_in_tile = lane / 4;             // fragment rows row_in_tile and row_in_tile + 8
  const int col_in_tile = (lane % 4) * 2;       // fragment columns col_in_tile, col_in_tile + 1
  const bool has_bias = p.bias != nullptr;
  const T* bias_base = has_bias ? static_cast<const T*>(p.bias) + int64_t(b) * p.bias_batch_stride +
                                      int64_t(h) * p.bias_head_stride
                                : nullptr;

  uint32_t q_frag[kQInRegs ? D / 16 : 1][kWarpM][4];
  float o_acc[kWarpM][D / 8][4];
#pragma unroll
  for (int mi = 0; mi < kWarpM; ++mi)
#pragma unroll
    for (int i = 0; i < D / 8; ++i) o_acc[mi][i][0] = o_acc[mi][i][1] = o_acc[mi][i][2] = o_acc[mi][i][3] = 0.f;
  float row_max[kWarpM][2], row_sum[kWarpM][2];  // row_sum: this lane's part, summed over 4 lanes at the end
#pragma unroll
  for (int mi = 0; mi < kWarpM; ++mi) {
    row_max[mi][0] = row_max[mi][1] = -INFINITY;
    row_sum[mi][0] = row_sum[mi][1] = 0.f;
  }

  for (int j = 0; j < n_blocks; ++j) {
    const int stage = j & 1;
    if (j + 1 < n_blocks) load_kv(j + 1, stage ^ 1);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (kQInRegs && j == 0) {
#pragma unroll
      for (int kk = 0; kk < (kQInRegs ? D / 16 : 0); ++kk)
#pragma unroll
        for (int mi = 0; mi < kWarpM; ++mi) load_q_frag(q_frag[kk][mi], mi, kk);
    }
    const int n0 = j * BN;
    // Tiles entirely above this warp's causal diagonal contribute nothing.
    const bool warp_skips = p.causal && n0 > warp_row0 + kWarpRows - 1 + causal_shift;
    if (!warp_skips) {
      const T* tK = sK + stage * BN * LD;
      const T* tV = sV + stage * BN * LD;
      float s[kWarpM][BN / 8][4];
#pragma unroll
      for (int mi = 0; mi < kWarpM; ++mi)
#pragma unroll
        for (int i = 0; i < BN / 8; ++i) s[mi][i][0] = s[mi][i][1] = s[mi][i][2] = s[mi][i][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t qa[kWarpM][4];
#pragma unroll
        for (int mi = 0; mi < kWarpM; ++mi) {
          if constexpr (kQInRegs) {
#pragma unroll
            for (int i = 0; i < 4; ++i) qa[mi][i] = q_frag[kk][mi][i];
          } else {
            load_q_frag(qa[mi], mi, kk);
          }
        }
#pragma unroll
        for (int np = 0; np < BN / 16; ++np) {
          uint32_t kb[4];
          ldmatrix_x4(kb, tK + (np * 16 + (lane % 8) + (lane / 16) * 8) * LD + kk * 16 + ((lane / 8) % 2) * 8);
#pragma unroll
          for (int mi = 0; mi < kWarpM; ++mi) {
            mma_16816<T>(s[mi][2 * np], qa[mi], kb[0], kb[1]);
            mma_16816<T>(s[mi][2 * np + 1], qa[mi], kb[2], kb[3]);
          }
        }
      }
      const bool needs_mask = n0 + BN > kv_valid || (p.causal && n0 + BN - 1 > warp_row0 + causal_shift);
      if (needs_mask || has_bias) {
#pragma unroll
        for (int mi = 0; mi < kWarpM; ++mi)
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int row = warp_row0 + mi * 16 + row_in_tile + (e / 2) * 8;
              const int col = n0 + nt * 8 + col_in_tile + (e % 2);
              const bool masked = col >= kv_valid || (p.causal && col > row + causal_shift) || row >= qs.len;
              float v = s[mi][nt][e] * scale_log2;
              if (has_bias && !masked) v += to_float(bias_base[int64_t(row) * p.bias_row_stride + col]) * kLog2e;
              s[mi][nt][e] = masked ? -INFINITY : v;
            }
      } else {
#pragma unroll
        for (int mi = 0; mi < kWarpM; ++mi)
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
            for (int e = 0; e < 4; ++e) s[mi][nt][e] *= scale_log2;
      }
      // Online softmax over this tile, per fragment row.
#pragma unroll
      for (int mi = 0; mi < kWarpM; ++mi) {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          float tile_max = -INFINITY;
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt)
            tile_max = fmaxf(tile_max, fmaxf(s[mi][nt][2 * r], s[mi][nt][2 * r + 1]));
          tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
          tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
          const float new_max = fmaxf(row_max[mi][r], tile_max);
          const float ref = new_max == -INFINITY ? 0.f : new_max;  // all masked so far: exp2(-inf) = 0
          const float alpha = fast_exp2(row_max[mi][r] - ref);
          row_max[mi][r] = new_max;
          float sum = 0.f;
#pragma unroll
          for (int nt = 0; nt < BN / 8; ++nt) {
            s[mi][nt][2 * r] = fast_exp2(s[mi][nt][2 * r] - ref);
            s[mi][nt][2 * r + 1] = fast_exp2(s[mi][nt][2 * r + 1] - ref);
            sum += s[mi][nt][2 * r] + s[mi][nt][2 * r + 1];
          }
          row_sum[mi][r] = row_sum[mi][r] * alpha + sum;
#pragma unroll
          for (int dt = 0; dt < D / 8; ++dt) {
            o_acc[mi][dt][2 * r] *= alpha;
            o_acc[mi][dt][2 * r + 1] *= alpha;
          }
        }
      }
      // O += P V.
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        uint32_t pa[kWarpM][4];
#pragma unroll
        for (int mi = 0; mi < kWarpM; ++mi) {
          pa[mi][0] = pack2<T>(s[mi][2 * kk][0], s[mi][2 * kk][1]);
          pa[mi][1] = pack2<T>(s[mi][2 * kk][2], s[mi][2 * kk][3]);
          pa[mi][2] = pack2<T>(s[mi][2 * kk + 1][0], s[mi][2 * kk + 1][1]);
          pa[mi][3] = pack2<T>(s[mi][2 * kk + 1][2], s[mi][2 * kk + 1][3]);
        }
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
          uint32_t vb[4];
          ldmatrix_x4_trans(vb, tV + (kk * 16 + (lane % 8) + ((lane / 8) % 2) * 8) * LD + dp * 16 + (lane / 16) * 8);
#pragma unroll
          for (int mi = 0; mi < kWarpM; ++mi) {
            mma_16816<T>(o_acc[mi][2 * dp], pa[mi], vb[0], vb[1]);
            mma_16816<T>(o_acc[mi][2 * dp + 1], pa[mi], vb[2], vb[3]);
          }
        }
      }
    }
    __syncthreads();
  }
  cp_async_wait<0>();
  __syncthreads();

  // Epilogue: normalise, stage this warp's rows in its slice of sQ, store 16 bytes per lane.
  const int total_q = total_rows(p.cu_seqlens_q, p.batch, p.max_seqlen_q);
#pragma unroll
  for (int mi = 0; mi < kWarpM; ++mi) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float sum = row_sum[mi][r];
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      const float inv = sum > 0.f ? 1.f / sum : 0.f;
      const int local = warp * kWarpRows + mi * 16 + row_in_tile + r * 8;
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        *reinterpret_cast<uint32_t*>(sQ + local * LD + dt * 8 + col_in_tile) =
            pack2<T>(o_acc[mi][dt][2 * r] * inv, o_acc[mi][dt][2 * r + 1] * inv);
      }
      const int row = m0 + local;
      if (p.lse && lane % 4 == 0 && row < qs.len) {
        p.lse[int64_t(h) * total_q + qs.start + row] = row_lse(row_max[mi][r], sum);
      }
    }
  }
  __syncwarp();
  T* out_base = static_cast<T*>(p.out) + int64_t(qs.start) * q_stride + int64_t(h) * D;
  for (int c = lane; c < kWarpRows * kChunks; c += 32) {
    const int local = warp * kWarpRows + c / kChunks, ch = c % kChunks;
    if (m0 + local < qs.len) {
      *reinterpret_cast<uint4*>(out_base + int64_t(m0 + local) * q_stride + ch * 8) =
          *reinterpret_cast<const uint4*>(sQ + local * LD + ch * 8);
    }
  }
#else
  (void)p;
  (void)scale_log2;
#endif
}

constexpr int kGeneralWarps = 4;
constexpr int kGeneralMaxDim = 256;

template <typename T>
__global__ void __launch_bounds__(kGeneralWarps * 32) flash_prefill_general_kernel(const PrefillArgs p,
                                                                                    float scale_log2) {
  using namespace device;
  constexpr int kPerLane = kGeneralMaxDim / 32;
  const int h = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const SeqSpan qs = seq_span(p.cu_seqlens_q, b, p.max_seqlen_q);
  const SeqSpan ks = seq_span(p.cu_seqlens_k, b, p.max_seqlen_k);
  const int row = blockIdx.x * kGeneralWarps + warp;
  if (row >= qs.len) return;
  const int D = p.head_dim;
  const int kvh = h / (p.num_heads / p.num_kv_heads);
  int kv_valid = ks.len;
  if (p.k_valid_lens) kv_valid = min(kv_valid, max(p.k_valid_lens[b], 0));
  int n_end = kv_valid;
  if (p.causal) n_end = min(n_end, row + ks.len - qs.len + 1);

  const int64_t q_stride = int64_t(p.num_heads) * D;
  const int64_t kv_stride = int64_t(p.num_kv_heads) * D;
  const T* q_row = static_cast<const T*>(p.q) + (int64_t(qs.start) + row) * q_stride + int64_t(h) * D;
  const T* k_base = static_cast<const T*>(p.k) + int64_t(ks.start) * kv_stride + int64_t(kvh) * D;
  const T* v_base = static_cast<const T*>(p.v) + int64_t(ks.start) * kv_stride + int64_t(kvh) * D;
  const T* bias_row = p.bias ? static_cast<const T*>(p.bias) + int64_t(b) * p.bias_batch_stride +
                                   int64_t(h) * p.bias_head_stride + int64_t(row) * p.bias_row_stride
                             : nullptr;

  float q[kPerLane], acc[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int d = lane + 32 * i;
    q[i] = d < D ? to_float(q_row[d]) * scale_log2 : 0.f;
    acc[i] = 0.f;
  }
  float run_max = -INFINITY, run_sum = 0.f;
  for (int j = 0; j < n_end; ++j) {
    const T* k_row = k_base + int64_t(j) * kv_stride;
    float dot = 0.f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < D) dot += q[i] * to_float(k_row[d]);
    }
    float score = warp_sum(dot);
    if (bias_row) score += to_float(bias_row[j]) * kLog2e;
    if (score == -INFINITY) continue;  // warp-uniform: every lane holds the same score
    const float new_max = fmaxf(run_max, score);
    const float alpha = fast_exp2(run_max - new_max);
    const float weight = fast_exp2(score - new_max);
    run_sum = run_sum * alpha + weight;
    const T* v_row = v_base + int64_t(j) * kv_stride;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int d = lane + 32 * i;
      acc[i] = acc[i] * alpha + (d < D ? weight * to_float(v_row[d]) : 0.f);
    }
    run_max = new_max;
  }
  const float inv = run_sum > 0.f ? 1.f / run_sum : 0.f;
  T* out_row = static_cast<T*>(p.out) + (int64_t(qs.start) + row) * q_stride + int64_t(h) * D;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int d = lane + 32 * i;
    if (d < D) out_row[d] = from_float<T>(acc[i] * inv);
  }
  if (p.lse && lane == 0) {
    const int total_q = total_rows(p.cu_seqlens_q, p.batch, p.max_seqlen_q);
    p.lse[int64_t(h) * total_q + qs.start + row] = row_lse(run_max, run_sum);
  }
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

Status check_args(const PrefillArgs& a) {
  HS_CHECK_ARG(a.q && a.k && a.v && a.out, "flash_attention_prefill: q, k, v and out must be device pointers");
  HS_CHECK_ARG(a.dtype == AttnDType::kFloat16 || a.dtype == AttnDType::kBFloat16,
               "flash_attention_prefill: dtype must be float16 or bfloat16");
  HS_CHECK_ARG(a.batch > 0 && a.batch <= 65535, "flash_attention_prefill: batch must be in [1, 65535], got ",
               a.batch);
  HS_CHECK_ARG(a.num_heads > 0 && a.num_heads <= 65535, "flash_attention_prefill: num_heads must be in [1, 65535], got ",
               a.num_heads);
  HS_CHECK_ARG(a.num_kv_heads > 0 && a.num_heads % a.num_kv_heads == 0, "flash_attention_prefill: num_kv_heads (",
               a.num_kv_heads, ") must divide num_heads (", a.num_heads, ")");
  HS_CHECK_ARG(a.head_dim > 0 && a.head_dim <= kGeneralMaxDim, "flash_attention_prefill: head_dim must be in [1, ",
               kGeneralMaxDim, "], got ", a.head_dim);
  HS_CHECK_ARG(a.max_seqlen_q >= 0 && a.max_seqlen_k >= 0, "flash_attention_prefill: max_seqlen_q/k must be >= 0");
  HS_CHECK_ARG((a.cu_seqlens_q == nullptr) == (a.cu_seqlens_k == nullptr),
               "flash_attention_prefill: give both cu_seqlens_q and cu_seqlens_k or neither");
  HS_CHECK_ARG(std::isfinite(a.scale), "flash_attention_prefill: scale must be finite");
  return Status::ok();
}

template <typename T, int kHeadDim>
Status launch_tc(const PrefillArgs& a, float scale_log2, cudaStream_t stream) {
  using Config = TcConfig<kHeadDim>;
  auto kernel = flash_prefill_tc_kernel<T, kHeadDim>;
  HS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Config::kSmemBytes));
  const dim3 grid((a.max_seqlen_q + Config::kBlockM - 1) / Config::kBlockM, a.num_heads, a.batch);
  kernel<<<grid, Config::kThreads, Config::kSmemBytes, stream>>>(a, scale_log2);
  HS_CUDA_CHECK_LAUNCH("flash_prefill_tc_kernel");
  return Status::ok();
}

template <typename T>
Status launch_general(const PrefillArgs& a, float scale_log2, cudaStream_t stream) {
  const dim3 grid((a.max_seqlen_q + kGeneralWarps - 1) / kGeneralWarps, a.num_heads, a.batch);
  flash_prefill_general_kernel<T><<<grid, kGeneralWarps * 32, 0, stream>>>(a, scale_log2);
  HS_CUDA_CHECK_LAUNCH("flash_prefill_general_kernel");
  return Status::ok();
}

template <typename T>
Status dispatch(const PrefillArgs& a, float scale_log2, cudaStream_t stream) {
  int dev = 0, major = 0, smem_optin = 0;
  HS_CUDA_CHECK(cudaGetDevice(&dev));
  HS_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  HS_CUDA_CHECK(cudaDeviceGetAttribute(&smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  if (major * 10 < 75) HS_FAIL(kCudaUnavailable, "flash_attention_prefill: needs compute capability 7.5 or newer");
  const bool tc_ok = major >= 8 && aligned16(a.q) && aligned16(a.k) && aligned16(a.v) && aligned16(a.out);
  if (tc_ok && a.head_dim == 64 && TcConfig<64>::kSmemBytes <= smem_optin) return launch_tc<T, 64>(a, scale_log2, stream);
  if (tc_ok && a.head_dim == 96 && TcConfig<96>::kSmemBytes <= smem_optin) return launch_tc<T, 96>(a, scale_log2, stream);
  if (tc_ok && a.head_dim == 128 && TcConfig<128>::kSmemBytes <= smem_optin)
    return launch_tc<T, 128>(a, scale_log2, stream);
  return launch_general<T>(a, scale_log2, stream);
}

}  // namespace

Status flash_attention_prefill(const PrefillArgs& args, cudaStream_t stream) {
  HS_RETURN_IF_ERROR(check_args(args));
  if (args.max_seqlen_q == 0) return Status::ok();
  const float scale_log2 = args.scale * kLog2e;
  // The Hopper kernel only when chosen (prefill_kernel_choice.h); what it does not cover stays here.
  if (selected_prefill_kernel() == PrefillKernel::kSm90 && sm90_prefill_supports(args))
    return flash_attention_prefill_sm90(args, scale_log2, stream);
  if (args.dtype == AttnDType::kFloat16) return dispatch<__half>(args, scale_log2, stream);
  return dispatch<__nv_bfloat16>(args, scale_log2, stream);
}

}  // namespace hs::cuda
