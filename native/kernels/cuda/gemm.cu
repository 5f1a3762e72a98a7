// One tiled SIMT GEMM core, float32 with fp32 accumulation, behind two problem types:
//   DenseGemm: strided (transposable, broadcastable, batched) A and B, epilogue with bias,
//              beta * D and an activation;
//   ImplicitConv: convolution as GEMM, M = output channels of a group, N = batch * output pixels,
//              K = input channels of a group * kernel window; B's elements are gathered from the
//              NCHW input on the fly (zero outside the padding), so no im2col buffer exists.
// Launch shape: 256 threads per 64x64 output tile, K in steps of 16 staged through shared memory;
// thread (tx, ty) of a 16x16 grid owns rows ty + 16 i and columns tx + 16 j (i, j < 4), so shared
// reads are conflict-free and stores coalesce across tx. blockIdx.z walks batch items (groups for
// convolution). Tensor cores wait for the fp16/bf16 precision step: fp32 results must match the
// CPU within 1e-4, which TF32 would not.
#include "kernels/cuda/gemm.cuh"

#include "kernels/cuda/activation.cuh"
#include "kernels/cuda/cuda_check.h"

namespace hs::cuda {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256, kMaxGridZ = 65535;

// A problem gives, per batch item, a small Item (base pointers or the group) that the loads and
// stores take, so the kernel never writes its (large) parameter struct.
struct DenseGemm {
  GemmArgs g;
  int64_t items;

  struct Item {
    const float* a;
    const float* b;
    float* c;
  };
  __device__ Item item(int64_t i) const {
    return Item{g.a + strided_offset(g.batch, g.a_bs, i), g.b + strided_offset(g.batch, g.b_bs, i), g.c + i * g.c_bs};
  }
  __device__ int64_t M() const { return g.M; }
  __device__ int64_t N() const { return g.N; }
  __device__ int64_t K() const { return g.K; }
  __device__ float load_a(const Item& it, int64_t m, int64_t k) const { return it.a[m * g.a_rs + k * g.a_cs]; }
  __device__ float load_b(const Item& it, int64_t k, int64_t n) const { return it.b[k * g.b_rs + n * g.b_cs]; }
  __device__ void store(const Item& it, int64_t m, int64_t n, float acc) const {
    float v = g.alpha * acc;
    if (g.bias) v += g.bias[n];
    if (g.d) v += g.beta * g.d[m * g.d_rs + n * g.d_cs];
    it.c[m * g.c_rs + n] = apply_act(g.ep, v);
  }
};

struct ImplicitConv {
  Conv2dArgs g;
  int64_t items;  // groups
  int64_t m_per_group, c_per_group, window, pixels;

  struct Item {
    int64_t group;
  };
  __device__ Item item(int64_t i) const { return Item{i}; }
  __device__ int64_t M() const { return m_per_group; }
  __device__ int64_t N() const { return g.batch * pixels; }
  __device__ int64_t K() const { return c_per_group * window; }
  __device__ float load_a(const Item& it, int64_t m, int64_t k) const {
    return g.w[(it.group * m_per_group + m) * (c_per_group * window) + k];
  }
  __device__ float load_b(const Item& it, int64_t k, int64_t n) const {
    const int64_t c = k / window, r = k - c * window;
    const int64_t kh = r / g.kernel_w, kw = r - kh * g.kernel_w;
    const int64_t img = n / pixels, p = n - img * pixels;
    const int64_t oh = p / g.out_w, ow = p - oh * g.out_w;
    const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
    const int64_t iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
    if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) return 0.f;
    return g.x[((img * g.in_channels + it.group * c_per_group + c) * g.in_h + ih) * g.in_w + iw];
  }
  __device__ void store(const Item& it, int64_t m, int64_t n, float acc) const {
    const int64_t img = n / pixels, p = n - img * pixels;
    const int64_t channel = it.group * m_per_group + m;
    const int64_t at = (img * g.out_channels + channel) * pixels + p;
    float v = acc;
    if (g.bias) v += g.bias[channel];
    if (g.residual) v += g.residual[at];
    g.y[at] = apply_act(g.ep, v);
  }
};

template <class Problem>
__global__ void __launch_bounds__(kThreads) gemm_tile_kernel(const Problem p) {
  __shared__ float as[kBK][kBM + 4];
  __shared__ float bs[kBK][kBN + 4];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t m0 = (int64_t)blockIdx.y * kBM, n0 = (int64_t)blockIdx.x * kBN;
  for (int64_t item = blockIdx.z; item < p.items; item += gridDim.z) {
    const typename Problem::Item it = p.item(item);
    const int64_t M = p.M(), N = p.N(), K = p.K();
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < K; k0 += kBK) {
#pragma unroll
      for (int r = 0; r < (kBM * kBK) / kThreads; ++r) {
        const int e = tid + r * kThreads, ml = e / kBK, kl = e % kBK;
        const int64_t m = m0 + ml, k = k0 + kl;
        as[kl][ml] = (m < M && k < K) ? p.load_a(it, m, k) : 0.f;
      }
#pragma unroll
      for (int r = 0; r < (kBN * kBK) / kThreads; ++r) {
        const int e = tid + r * kThreads, kl = e / kBN, nl = e % kBN;
        const int64_t k = k0 + kl, n = n0 + nl;
        bs[kl][nl] = (k < K && n < N) ? p.load_b(it, k, n) : 0.f;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kBK; ++kk) {
        float av[4], bv[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) av[i] = as[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < 4; ++j) bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t m = m0 + ty + 16 * i;
      if (m >= M) continue;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int64_t n = n0 + tx + 16 * j;
        if (n < N) p.store(it, m, n, acc[i][j]);
      }
    }
  }
}

template <class Problem>
Status launch(const Problem& p, int64_t M, int64_t N, cudaStream_t stream) {
  const int64_t gx = (N + kBN - 1) / kBN, gy = (M + kBM - 1) / kBM;
  if (gx > 0x7fffffff || gy > 65535)
    HS_FAIL(kShape, "GEMM of ", M, "x", N, " exceeds the CUDA grid (at most ", 65535 * kBM, " rows)");
  const dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)(p.items < kMaxGridZ ? p.items : kMaxGridZ));
  gemm_tile_kernel<Problem><<<grid, kThreads, 0, stream>>>(p);
  HS_CUDA_CHECK_LAUNCH("gemm_tile_kernel");
  return Status::ok();
}

}  // namespace

Status gemm_f32(const GemmArgs& args, cudaStream_t stream) {
  if (args.M < 0 || args.N < 0 || args.K < 0) HS_FAIL(kShape, "gemm: negative size");
  if (args.batch.rank < 0 || args.batch.rank > kMaxDims) HS_FAIL(kShape, "gemm: batch rank out of range");
  int64_t items = 1;
  for (int i = 0; i < args.batch.rank; ++i) items *= args.batch.dims[i];
  if (items == 0 || args.M == 0 || args.N == 0) return Status::ok();
  if (!args.c || (args.K > 0 && (!args.a || !args.b))) HS_FAIL(kInvalidArgument, "gemm: null operand");
  DenseGemm p{};
  p.g = args;
  p.items = items;
  return launch(p, args.M, args.N, stream);
}

Status conv2d_f32(const Conv2dArgs& args, cudaStream_t stream) {
  if (args.groups <= 0 || args.in_channels % args.groups || args.out_channels % args.groups)
    HS_FAIL(kShape, "conv2d: channels ", args.in_channels, " -> ", args.out_channels, " do not split into ", args.groups,
            " groups");
  if (!args.x || !args.w || !args.y) HS_FAIL(kInvalidArgument, "conv2d: null operand");
  ImplicitConv p{};
  p.g = args;
  p.items = args.groups;
  p.m_per_group = args.out_channels / args.groups;
  p.c_per_group = args.in_channels / args.groups;
  p.window = args.kernel_h * args.kernel_w;
  p.pixels = args.out_h * args.out_w;
  if (args.batch * p.pixels == 0 || p.m_per_group == 0) return Status::ok();
  return launch(p, p.m_per_group, args.batch * p.pixels, stream);
}

}  // namespace hs::cuda
