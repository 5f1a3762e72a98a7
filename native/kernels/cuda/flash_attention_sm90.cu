// Prefill attention on Hopper (sm_90a): FlashAttention with warpgroup MMAs (wgmma) for both products.
//
// Scope: fp16/bf16 in, fp32 accumulation, head_dim 64 or 128, causal or not, GQA/MQA, varlen
// (cu_seqlens), key padding (k_valid_lens), the log-sum-exp; bias and other head dims stay on the FA2
// kernel (flash_attention.cu), whose masks and results this one reproduces (scores in log2 units,
// exp2 on ex2.approx, -inf lse and zero rows where no key is visible).
//
// One CTA of two warpgroups (256 threads) owns a 128-row query tile of one (sequence, head); warpgroup
// g owns rows [64g, 64g + 64). Shared memory holds Q [128 x D] and three stages of K and V [128 x D]
// each, all in the 128-byte swizzled layout described in wgmma_sm90.cuh (225 KiB at D = 128). All
// threads load with 16-byte cp.async (rows past the valid keys or queries zero-filled); K/V tile j + 1
// loads while tile j computes, and one barrier per tile publishes a stage.
// Per tile and warpgroup:
//   S = Q K^T   D/16 wgmma m64n128k16, A = Q and B = K from shared memory (both K-major); S is the
//               64-float accumulator fragment per thread (layout in wgmma_sm90.cuh);
//   softmax     scores scaled into log2 units, masked only on tiles that touch a mask edge; online row
//               max and sum (a row's 128 columns live in the 4 lanes of a quad: two shuffles);
//   O += P V    P rounded to 16 bits stays in registers as the A operand; 8 wgmma m64nDk16 with B = V
//               read MN-major (transposed) from its row-major tile.
// The products are software-pipelined: the P V of tile j - 1 is issued right after S_j and runs on the
// tensor cores during tile j's softmax (FlashAttention-3's intra-warpgroup overlap); O is rescaled
// once it has landed. A warpgroup whose 64 rows all lie above the causal diagonal of a tile skips it.
// Epilogue: O / row sum staged in the Q tile (same swizzle), then 16-byte stores; lse per row.
//
// Not in this version: TMA bulk copies and a producer warpgroup with setmaxnreg (loads are issued by
// the same threads, between barriers), ping-pong scheduling of the two warpgroups. Commit 0cf91fc has
// the same kernel without the pipelining (two stages, each product waited for at once), the simplest
// reference to bisect against if this one is wrong.
#include "kernels/cuda/flash_attention_sm90.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/attention_device.cuh"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/wgmma_sm90.cuh"

namespace hs::cuda {
namespace {

template <int kHeadDim>
struct Sm90Config {
  static constexpr int kBlockM = 128;  // query rows per CTA, 64 per warpgroup
  static constexpr int kBlockN = 128;  // keys per K/V tile
  static constexpr int kThreads = 256;
  static constexpr int kStages = 3;    // K/V tiles resident: one read by P V, one by Q K^T, one loading
  static constexpr int kQBytes = kBlockM * kHeadDim * 2;
  static constexpr int kKVBytes = kBlockN * kHeadDim * 2;  // one stage of K, or of V
  // + 1024: the kernel aligns the dynamic shared base up to the 1024-byte swizzle atom.
  static constexpr int kSmemBytes = kQBytes + 2 * kStages * kKVBytes + 1024;  // 225 KiB at D = 128
};

#if HS_SM90A_DEVICE
// Byte offset of the 16-byte chunk `chunk` (elements 8 chunk .. 8 chunk + 7) of row `row` of a tile
// with `rows` rows in the 128-byte swizzled layout: 64-element column blocks, chunk XOR row % 8.
__device__ __forceinline__ uint32_t sw128_offset(int rows, int row, int chunk) {
  return uint32_t((chunk >> 3) * rows * 128 + row * 128 + (((chunk & 7) ^ (row & 7)) << 4));
}
#endif

template <typename T, int kHeadDim>
__global__ void __launch_bounds__(Sm90Config<kHeadDim>::kThreads, 1)
    flash_prefill_sm90_kernel(const PrefillArgs p, float scale_log2) {
#if HS_SM90A_DEVICE
  using namespace device;
  using Config = Sm90Config<kHeadDim>;
  constexpr int D = kHeadDim, BM = Config::kBlockM, BN = Config::kBlockN, kThreads = Config::kThreads;
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  extern __shared__ unsigned char smem_raw[];
  unsigned char* sQ = smem_raw + ((1024 - (smem_u32(smem_raw) & 1023)) & 1023);
  unsigned char* sK = sQ + Config::kQBytes;                     // [kStages]
  unsigned char* sV = sK + Config::kStages * Config::kKVBytes;  // [kStages]

  // Causal: the last query tiles see the most keys; launching them first shortens the tail of the grid.
  const int m_block = p.causal ? gridDim.x - 1 - blockIdx.x : blockIdx.x;
  const int h = blockIdx.y, b = blockIdx.z;
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

  const int tid = threadIdx.x, wg = tid / 128, warp_in_wg = (tid % 128) / 32, lane = tid % 32;
  const int64_t q_stride = int64_t(p.num_heads) * D;
  const int64_t kv_stride = int64_t(p.num_kv_heads) * D;
  const T* q_base = static_cast<const T*>(p.q) + int64_t(qs.start) * q_stride + int64_t(h) * D;
  const T* k_base = static_cast<const T*>(p.k) + int64_t(ks.start) * kv_stride + int64_t(kvh) * D;
  const T* v_base = static_cast<const T*>(p.v) + int64_t(ks.start) * kv_stride + int64_t(kvh) * D;

  // rows [first, first + rows) of a global [*, stride] matrix into a swizzled shared tile; rows at or
  // past `limit` are zero-filled. Consecutive threads take consecutive chunks of a row.
  auto load_tile = [&](unsigned char* dst, const T* src, int64_t stride, int first, int limit, int rows) {
    for (int c = tid; c < rows * kChunks; c += kThreads) {
      const int r = c / kChunks, ch = c % kChunks;
      const bool ok = first + r < limit;
      cp_async16(dst + sw128_offset(rows, r, ch), ok ? src + int64_t(first + r) * stride + ch * 8 : src, ok);
    }
  };
  auto load_kv = [&](int j, int stage) {
    load_tile(sK + stage * Config::kKVBytes, k_base, kv_stride, j * BN, kv_valid, BN);
    load_tile(sV + stage * Config::kKVBytes, v_base, kv_stride, j * BN, kv_valid, BN);
  };

  load_tile(sQ, q_base, q_stride, m0, qs.len, BM);
  if (n_blocks > 0) load_kv(0, 0);
  cp_async_commit();

  const int wg_row0 = m0 + wg * 64;                       // first local query row of this warpgroup
  const int row0 = wg_row0 + warp_in_wg * 16 + lane / 4;  // this thread's rows: row0 and row0 + 8
  const int col0 = (lane % 4) * 2;                        // its columns in each 8: col0 and col0 + 1
  const uint32_t q_addr = smem_u32(sQ) + wg * 64 * 128;   // the warpgroup's rows of column block 0

  float o[D / 2];  // accumulator of m64nD: o[4 dt + 2 r + c] = (row0 + 8 r, column 8 dt + col0 + c)
#pragma unroll
  for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.f, 0.f};  // this lane's part, summed over the quad at the end

  // Scores, then probabilities, of the current tile: s[4 nt + 2 r + c] = (row0 + 8 r, key n0 + 8 nt + col0 + c).
  float s[BN / 2];
  uint32_t pa[BN / 16][4];  // P of the previous tile as A fragments: keys 16 kk .. 16 kk + 15 in pa[kk]

  auto issue_s = [&](int stage) {  // S = Q K^T, D/16 k-steps
    const uint32_t k_addr = smem_u32(sK + stage * Config::kKVBytes);
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      const uint64_t desc_q = sw128_desc(q_addr + (kk / 4) * BM * 128 + (kk % 4) * 32, 16, 1024);
      const uint64_t desc_k = sw128_desc(k_addr + (kk / 4) * BN * 128 + (kk % 4) * 32, 16, 1024);
      wgmma_ss_m64n128k16<T>(s, desc_q, desc_k, kk > 0);
    }
    wgmma_commit();
  };
  auto issue_pv = [&](int stage) {  // O += P V, BN/16 k-steps over the keys
    const uint32_t v_addr = smem_u32(sV + stage * Config::kKVBytes);
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      wgmma_rs_m64k16<T, D>(o, pa[kk], sw128_desc(v_addr + kk * 16 * 128, BN * 128, 1024));
    }
    wgmma_commit();
  };

  // Mask, scale and online softmax of the scores in s for keys [n0, n0 + BN): s becomes the
  // probabilities, row_max/row_sum move on, alpha is the factor that O still has to be scaled by.
  auto softmax_tile = [&](int n0, float (&alpha)[2]) {
    const bool needs_mask = n0 + BN > kv_valid || (p.causal && n0 + BN - 1 > wg_row0 + causal_shift);
    if (needs_mask) {
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int row = row0 + (e / 2) * 8;
          const int col = n0 + nt * 8 + col0 + (e % 2);
          const bool masked = col >= kv_valid || (p.causal && col > row + causal_shift);
          s[4 * nt + e] = masked ? -INFINITY : s[4 * nt + e] * scale_log2;
        }
    } else {
#pragma unroll
      for (int i = 0; i < BN / 2; ++i) s[i] *= scale_log2;
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt) tile_max = fmaxf(tile_max, fmaxf(s[4 * nt + 2 * r], s[4 * nt + 2 * r + 1]));
      tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
      tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
      const float new_max = fmaxf(row_max[r], tile_max);
      const float ref = new_max == -INFINITY ? 0.f : new_max;  // all masked so far: exp2(-inf) = 0
      alpha[r] = fast_exp2(row_max[r] - ref);
      row_max[r] = new_max;
      float sum = 0.f;
#pragma unroll
      for (int nt = 0; nt < BN / 8; ++nt) {
        s[4 * nt + 2 * r] = fast_exp2(s[4 * nt + 2 * r] - ref);
        s[4 * nt + 2 * r + 1] = fast_exp2(s[4 * nt + 2 * r + 1] - ref);
        sum += s[4 * nt + 2 * r] + s[4 * nt + 2 * r + 1];
      }
      row_sum[r] = row_sum[r] * alpha[r] + sum;
    }
  };
  // O *= alpha per row, then P (16-bit) into the A fragments.
  auto rescale_and_pack = [&](const float (&alpha)[2]) {
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      o[4 * dt] *= alpha[0];
      o[4 * dt + 1] *= alpha[0];
      o[4 * dt + 2] *= alpha[1];
      o[4 * dt + 3] *= alpha[1];
    }
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      pa[kk][0] = pack2<T>(s[8 * kk], s[8 * kk + 1]);
      pa[kk][1] = pack2<T>(s[8 * kk + 2], s[8 * kk + 3]);
      pa[kk][2] = pack2<T>(s[8 * kk + 4], s[8 * kk + 5]);
      pa[kk][3] = pack2<T>(s[8 * kk + 6], s[8 * kk + 7]);
    }
  };
  // Every iteration of the CTA, busy or not, starts here: tile j has landed and is published, every
  // thread is past iteration j - 1 (so tile j - 2's stage is free), and tile j + 1 starts loading.
  auto stage_of = [](int j) { return j % Config::kStages; };
  auto sync_and_prefetch = [&](int j) {
    cp_async_wait<0>();
    fence_proxy_async_shared();
    __syncthreads();
    if (j + 1 < n_blocks) load_kv(j + 1, stage_of(j + 1));
    cp_async_commit();
  };

  // Tiles this warpgroup computes: with causal, those wholly above its diagonal are the last ones.
  int n_wg = n_blocks;
  if (p.causal) n_wg = wg_row0 + 63 + causal_shift < 0 ? 0 : min(n_blocks, (wg_row0 + 63 + causal_shift) / BN + 1);

  // Software pipeline per warpgroup: iteration j issues S_j = Q K_j^T and then O += P_{j-1} V_{j-1},
  // waits for S_j only (groups retire in order), runs tile j's softmax while the P V product runs on
  // the tensor cores, then waits for it, rescales O and packs P_j. Three K/V stages: tile j - 1 (V
  // still read), tile j, and tile j + 1 loading. Iteration 0 and the last P V are peeled so that no
  // per-tile condition decides which batches an iteration issues: that made ptxas serialise every
  // wgmma (warning C7520, "WG.AR in divergent path").
  int j = 0;
  if (n_wg > 0) {
    float alpha[2];
    sync_and_prefetch(0);
    wgmma_fence();
    issue_s(stage_of(0));
    wgmma_wait<0>();
    fence_registers(s);
    softmax_tile(0, alpha);
    rescale_and_pack(alpha);
    for (j = 1; j < n_wg; ++j) {
      sync_and_prefetch(j);
      fence_registers(o);
      fence_registers(pa);
      wgmma_fence();
      issue_s(stage_of(j));
      issue_pv(stage_of(j - 1));
      wgmma_wait<1>();
      fence_registers(s);
      softmax_tile(j * BN, alpha);
      wgmma_wait<0>();
      fence_registers(o);
      rescale_and_pack(alpha);
    }
    // The last tile's P V, before the next barrier lets a load overwrite its stage.
    fence_registers(o);
    fence_registers(pa);
    wgmma_fence();
    issue_pv(stage_of(n_wg - 1));
    wgmma_wait<0>();
    fence_registers(o);
  }
  for (; j < n_blocks; ++j) sync_and_prefetch(j);  // the other warpgroup's tiles still need loading
  cp_async_wait<0>();
  __syncthreads();

  // Epilogue: normalise, stage the rows in this warpgroup's part of the Q tile, store 16 bytes a thread.
  const int total_q = total_rows(p.cu_seqlens_q, p.batch, p.max_seqlen_q);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float sum = row_sum[r];
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    const int local = row0 - m0 + r * 8;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
      *reinterpret_cast<uint32_t*>(sQ + sw128_offset(BM, local, dt) + col0 * 2) =
          pack2<T>(o[4 * dt + 2 * r] * inv, o[4 * dt + 2 * r + 1] * inv);
    }
    const int row = row0 + r * 8;
    if (p.lse && lane % 4 == 0 && row < qs.len) {
      p.lse[int64_t(h) * total_q + qs.start + row] = row_lse(row_max[r], sum);
    }
  }
  __syncthreads();
  T* out_base = static_cast<T*>(p.out) + int64_t(qs.start) * q_stride + int64_t(h) * D;
  for (int c = tid; c < BM * kChunks; c += kThreads) {
    const int local = c / kChunks, ch = c % kChunks;
    if (m0 + local < qs.len) {
      *reinterpret_cast<uint4*>(out_base + int64_t(m0 + local) * q_stride + ch * 8) =
          *reinterpret_cast<const uint4*>(sQ + sw128_offset(BM, local, ch));
    }
  }
#else
  (void)p;
  (void)scale_log2;
#endif
}

}  // namespace

// Only the sm_90a image of this kernel has static shared memory, so cudaFuncGetAttributes on it
// tells, without a launch (also safe during stream capture), whether the image the runtime picked for
// this device is the sm_90a one; an sm_90 image of flash_prefill_sm90_kernel would be empty. Outside
// the anonymous namespace so that test/native/cuda_sim, which cannot compile images, can be told the
// one it models.
constexpr int kSm90aProbeInts = 32;
__global__ void sm90a_probe_kernel(int* sink) {
#if HS_SM90A_DEVICE
  __shared__ int marker[kSm90aProbeInts];
  marker[threadIdx.x % kSm90aProbeInts] = threadIdx.x;
  __syncthreads();
  if (sink) *sink = marker[(threadIdx.x + 1) % kSm90aProbeInts];
#else
  (void)sink;
#endif
}

namespace {

Status check_device(int* smem_optin) {
  int dev = 0, major = 0, minor = 0;
  HS_CUDA_CHECK(cudaGetDevice(&dev));
  HS_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  HS_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  HS_CUDA_CHECK(cudaDeviceGetAttribute(smem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  if (major != 9 || minor != 0) {
    HS_FAIL(kCudaUnavailable, "flash_attention_prefill: the sm90 kernel needs a compute capability 9.0 device, not ",
            major, ".", minor, " (unset HS_ATTENTION_KERNEL to use fa2)");
  }
  cudaFuncAttributes attr{};
  const cudaError_t err = cudaFuncGetAttributes(&attr, sm90a_probe_kernel);
  if (err != cudaSuccess) {
    cudaGetLastError();  // not sticky; keep it from surfacing in a later launch check
    HS_FAIL(kCudaUnavailable, "flash_attention_prefill: no image of the sm90 kernel for this device (",
            cudaGetErrorName(err), ")");
  }
  if (attr.sharedSizeBytes != kSm90aProbeInts * sizeof(int)) {
    HS_FAIL(kCudaUnavailable,
            "flash_attention_prefill: this library was built without an sm_90a image (add 90a to "
            "CMAKE_CUDA_ARCHITECTURES, or HS_ARCH=90a), so the sm90 kernel cannot run");
  }
  return Status::ok();
}

template <typename T, int kHeadDim>
Status launch(const PrefillArgs& a, float scale_log2, int smem_optin, cudaStream_t stream) {
  using Config = Sm90Config<kHeadDim>;
  if (Config::kSmemBytes > smem_optin) {
    HS_FAIL(kCudaUnavailable, "flash_attention_prefill: the sm90 kernel needs ", Config::kSmemBytes,
            " bytes of shared memory per block, the device allows ", smem_optin);
  }
  auto kernel = flash_prefill_sm90_kernel<T, kHeadDim>;
  HS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Config::kSmemBytes));
  const dim3 grid((a.max_seqlen_q + Config::kBlockM - 1) / Config::kBlockM, a.num_heads, a.batch);
  kernel<<<grid, Config::kThreads, Config::kSmemBytes, stream>>>(a, scale_log2);
  HS_CUDA_CHECK_LAUNCH("flash_prefill_sm90_kernel");
  return Status::ok();
}

template <typename T>
Status dispatch(const PrefillArgs& a, float scale_log2, int smem_optin, cudaStream_t stream) {
  if (a.head_dim == 64) return launch<T, 64>(a, scale_log2, smem_optin, stream);
  return launch<T, 128>(a, scale_log2, smem_optin, stream);
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

}  // namespace

bool sm90_prefill_supports(const PrefillArgs& a) {
  return (a.head_dim == 64 || a.head_dim == 128) && a.bias == nullptr && aligned16(a.q) && aligned16(a.k) &&
         aligned16(a.v) && aligned16(a.out);
}

Status flash_attention_prefill_sm90(const PrefillArgs& args, float scale_log2, cudaStream_t stream) {
  HS_CHECK_ARG(sm90_prefill_supports(args), "flash_attention_prefill_sm90: head_dim ", args.head_dim,
               ", bias or alignment outside the kernel's scope");
  int smem_optin = 0;
  HS_RETURN_IF_ERROR(check_device(&smem_optin));
  if (args.dtype == AttnDType::kFloat16) return dispatch<__half>(args, scale_log2, smem_optin, stream);
  return dispatch<__nv_bfloat16>(args, scale_log2, smem_optin, stream);
}

}  // namespace hs::cuda
