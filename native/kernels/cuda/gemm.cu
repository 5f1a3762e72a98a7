// The tiled SIMT GEMM core, fp32 FMA with fp32 accumulation, over the problems of gemm_problem.cuh
// (16-bit operands are widened to float as they are loaded), and the checks and dispatch of
// gemm() / conv2d() for every kernel.
// Launch shape: 256 threads per 64x64 output tile, K in steps of 16 staged through shared memory;
// thread (tx, ty) of a 16x16 grid owns rows ty + 16 i and columns tx + 16 j (i, j < 4), so shared
// reads are conflict-free and stores coalesce across tx. blockIdx.z walks batch items (groups for
// convolution). This is the fp32 path: its results match the CPU within 1e-4, which TF32 would not.
#include "kernels/cuda/gemm.cuh"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_problem.cuh"

namespace hs::cuda {
namespace {

using namespace gemm_detail;

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256, kMaxGridZ = 65535;

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

const char* gemm_kernel_name(GemmKernel k) {
  switch (k) {
    case GemmKernel::kSimt: return "simt64";
    case GemmKernel::kTc64: return "tc64";
    case GemmKernel::kTc128: return "tc128";
    case GemmKernel::kTc16: return "tc16";
  }
  return "?";
}

Status gemm(const GemmArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream) {
  if (args.M < 0 || args.N < 0 || args.K < 0) HS_FAIL(kShape, "gemm: negative size");
  if (args.batch.rank < 0 || args.batch.rank > kMaxDims) HS_FAIL(kShape, "gemm: batch rank out of range");
  int64_t items = 1;
  for (int i = 0; i < args.batch.rank; ++i) items *= args.batch.dims[i];
  if (items == 0 || args.M == 0 || args.N == 0) return Status::ok();
  if (!args.c || (args.K > 0 && (!args.a || !args.b))) HS_FAIL(kInvalidArgument, "gemm: null operand");
  if (kernel == GemmKernel::kSimt) return detail::gemm_simt(args, items, stream);
  return detail::gemm_tc(args, items, kernel, mma, stream);
}

Status conv2d(const Conv2dArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream) {
  // Two negative output sizes would multiply to a positive count of output pixels.
  if (args.batch < 0 || args.in_channels < 0 || args.in_h < 0 || args.in_w < 0 || args.out_channels < 0 || args.out_h < 0 ||
      args.out_w < 0 || args.kernel_h < 0 || args.kernel_w < 0)
    HS_FAIL(kShape, "conv2d: negative size");
  if (args.groups <= 0 || args.in_channels % args.groups || args.out_channels % args.groups)
    HS_FAIL(kShape, "conv2d: channels ", args.in_channels, " -> ", args.out_channels, " do not split into ", args.groups,
            " groups");
  if (!args.x || !args.w || !args.y) HS_FAIL(kInvalidArgument, "conv2d: null operand");
  if (args.batch * args.out_h * args.out_w == 0 || args.out_channels == 0) return Status::ok();
  if (kernel == GemmKernel::kSimt) return detail::conv2d_simt(args, stream);
  return detail::conv2d_tc(args, kernel, mma, stream);
}

namespace detail {

Status gemm_simt(const GemmArgs& args, int64_t items, cudaStream_t stream) {
  const GemmElem h = args.a_elem == GemmElem::kBF16 || args.b_elem == GemmElem::kBF16 ? GemmElem::kBF16 : GemmElem::kF16;
  auto run = [&](const auto& p) { return launch(p, args.M, args.N, stream); };
  if (h == GemmElem::kBF16) return with_dense<BF16>(args, items, h, run);
  return with_dense<F16>(args, items, h, run);
}

Status conv2d_simt(const Conv2dArgs& args, cudaStream_t stream) {
  const int64_t M = args.out_channels / args.groups, N = args.batch * args.out_h * args.out_w;
  switch (args.w_elem) {
    case GemmElem::kF32: return launch(make_conv<F32>(args), M, N, stream);
    case GemmElem::kF16: return launch(make_conv<F16>(args), M, N, stream);
    case GemmElem::kBF16: return launch(make_conv<BF16>(args), M, N, stream);
    case GemmElem::kI8: break;
  }
  HS_FAIL(kType, "conv2d: weights must be float32 or 16-bit");
}

}  // namespace detail
}  // namespace hs::cuda
