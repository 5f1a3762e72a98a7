// Tensor-core GEMM over the problems of gemm_problem.cuh: mma.sync.m16n8k16 with fp16 or bf16
// operands and fp32 accumulation (sm_80+; compiled for sm_75 as a scalar loop over the same
// shared-memory tiles, so every target computes the same thing).
// Launch shape: a block computes a BM x BN tile (64x64 or 128x64) with (BM/WM) x (BN/WN) warps of
// WM x WN each, K in steps of 32. Each thread loads its share of the A and B tiles (as floats,
// through the problem's strided loads, k or m/n fastest across the warp, whichever is contiguous)
// and rounds them to the MMA type into shared memory, four loads in flight per thread (a full
// register prefetch of the next tile made the strided and implicit-convolution index math spill;
// other resident blocks hide the load latency):
// As[m][k] and Bs[n][k], rows padded by 8 elements so that the fragment loads (two k-adjacent
// 16-bit values per 32-bit word) of a warp's 8 rows x 4 column pairs hit 32 distinct banks.
// Fragment layout (PTX ISA, mma.m16n8k16, g = lane / 4, t = lane % 4):
//   A: a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)     [row, k]
//   B: b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g)
//   C: c0 c1 (g, 2t and 2t+1), c2 c3 (g+8, 2t and 2t+1)                         [row, col]
// The epilogue (alpha, bias, beta * D, activation, store) is the problem's, in float32.
#include <type_traits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_problem.cuh"

namespace hs::cuda {
namespace {

using namespace gemm_detail;

constexpr int kMaxGridZ = 65535;

template <int BM_, int BN_, int WM_, int WN_>
struct TcTile {
  static constexpr int BM = BM_, BN = BN_, WM = WM_, WN = WN_;
  static constexpr int BK = 32, kLd = BK + 8;  // shared row length in 16-bit elements
  static constexpr int kWarpsM = BM / WM, kWarpsN = BN / WN, kThreads = kWarpsM * kWarpsN * 32;
  static constexpr int kMT = WM / 16, kNT = WN / 8;  // MMA tiles per warp
  static constexpr size_t kSmemBytes = (size_t)(BM + BN) * kLd * sizeof(unsigned short);
  static_assert(BM % WM == 0 && BN % WN == 0 && WM % 16 == 0 && WN % 8 == 0, "warp tiles must split the block tile");
  static_assert((BM * BK) % (4 * kThreads) == 0 && (BN * BK) % (4 * kThreads) == 0,
                "tile loads must split evenly across threads, four at a time");
  static_assert(kLd % 2 == 0, "fragment loads read 32-bit pairs");
  static_assert(kSmemBytes <= 48 * 1024, "static shared memory is limited to 48 KiB");
};
using Tile64 = TcTile<64, 64, 32, 32>;     // 4 warps, 2 x 4 MMA tiles each
using Tile128 = TcTile<128, 64, 32, 32>;   // 8 warps, 2 x 4 MMA tiles each

template <class T>
__device__ __forceinline__ unsigned short to_bits(float v) {
  if constexpr (std::is_same_v<T, F16>) return __half_as_ushort(__float2half_rn(v));
  else return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

template <class T>
__device__ __forceinline__ float from_bits(unsigned short b) {
  if constexpr (std::is_same_v<T, F16>) return __half2float(__ushort_as_half(b));
  else return __bfloat162float(__ushort_as_bfloat16(b));
}

// Before sm_80 (no m16n8k16; the tensor-core tactics are not offered there, but the kernel must
// still compute the right thing): the same four outputs, one product at a time. Not inlined, so the
// unrolled tile loops do not hold its work in registers.
template <class T>
__device__ __noinline__ void mma_16x8x16_scalar(float c[4], const unsigned short* a, int lda, const unsigned short* b,
                                                int ldb, int lane) {
  const int g = lane >> 2, t = lane & 3;
  for (int e = 0; e < 4; ++e) {
    const int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
    float s = 0.f;
    for (int k = 0; k < 16; ++k) s = fmaf(from_bits<T>(a[row * lda + k]), from_bits<T>(b[col * ldb + k]), s);
    c[e] += s;
  }
}

// c += A(16 x 16 at a, row stride lda) * B(16 x 8 stored n-major at b, row stride ldb), this lane's
// fragment of C as laid out above.
template <class T>
__device__ __forceinline__ void mma_16x8x16(float c[4], const unsigned short* a, int lda, const unsigned short* b,
                                            int ldb, int lane) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const int g = lane >> 2, t = lane & 3;
  const unsigned a0 = *reinterpret_cast<const unsigned*>(a + g * lda + 2 * t);
  const unsigned a1 = *reinterpret_cast<const unsigned*>(a + (g + 8) * lda + 2 * t);
  const unsigned a2 = *reinterpret_cast<const unsigned*>(a + g * lda + 2 * t + 8);
  const unsigned a3 = *reinterpret_cast<const unsigned*>(a + (g + 8) * lda + 2 * t + 8);
  const unsigned b0 = *reinterpret_cast<const unsigned*>(b + g * ldb + 2 * t);
  const unsigned b1 = *reinterpret_cast<const unsigned*>(b + g * ldb + 2 * t + 8);
  if constexpr (std::is_same_v<T, F16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
  }
#else
  mma_16x8x16_scalar<T>(c, a, lda, b, ldb, lane);
#endif
}

template <class Problem, class Tile, class T>
__global__ void __launch_bounds__(Tile::kThreads, 1) tc_gemm_kernel(const Problem p) {
  constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, kLd = Tile::kLd, kThreads = Tile::kThreads;
  __shared__ __align__(16) unsigned short as[BM * kLd];
  __shared__ __align__(16) unsigned short bs[BN * kLd];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / Tile::kWarpsN, wn = warp % Tile::kWarpsN;
  const int64_t m0 = (int64_t)blockIdx.y * BM, n0 = (int64_t)blockIdx.x * BN;
  const bool a_k_fast = p.a_k_contiguous(), b_k_fast = p.b_k_contiguous();

  for (int64_t item = blockIdx.z; item < p.items; item += gridDim.z) {
    const typename Problem::Item it = p.item(item);
    const int64_t M = p.M(), N = p.N(), K = p.K();
    float acc[Tile::kMT][Tile::kNT][4] = {};
    for (int64_t k0 = 0; k0 < K; k0 += BK) {
      // Element e of the tile: (row, k) with k or the row fastest across the warp. Partly
      // unrolled: four loads in flight per thread without every address held in registers.
#pragma unroll 4
      for (int e = tid; e < BM * BK; e += kThreads) {
        const int ml = a_k_fast ? e / BK : e % BM, kl = a_k_fast ? e % BK : e / BM;
        const int64_t m = m0 + ml, k = k0 + kl;
        as[ml * kLd + kl] = to_bits<T>((m < M && k < K) ? p.load_a(it, m, k) : 0.f);
      }
#pragma unroll 4
      for (int e = tid; e < BN * BK; e += kThreads) {
        const int nl = b_k_fast ? e / BK : e % BN, kl = b_k_fast ? e % BK : e / BN;
        const int64_t k = k0 + kl, n = n0 + nl;
        bs[nl * kLd + kl] = to_bits<T>((k < K && n < N) ? p.load_b(it, k, n) : 0.f);
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < BK; kk += 16) {
#pragma unroll
        for (int i = 0; i < Tile::kMT; ++i)
#pragma unroll
          for (int j = 0; j < Tile::kNT; ++j)
            mma_16x8x16<T>(acc[i][j], as + (wm * Tile::WM + i * 16) * kLd + kk, kLd,
                           bs + (wn * Tile::WN + j * 8) * kLd + kk, kLd, lane);
      }
      __syncthreads();
    }

    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int i = 0; i < Tile::kMT; ++i)
#pragma unroll
      for (int j = 0; j < Tile::kNT; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int64_t m = m0 + wm * Tile::WM + i * 16 + g + (e >= 2 ? 8 : 0);
          const int64_t n = n0 + wn * Tile::WN + j * 8 + 2 * t + (e & 1);
          if (m < M && n < N) p.store(it, m, n, acc[i][j][e]);
        }
  }
}

template <class Tile, class T, class Problem>
Status launch_tc(const Problem& p, int64_t M, int64_t N, cudaStream_t stream) {
  const int64_t gx = (N + Tile::BN - 1) / Tile::BN, gy = (M + Tile::BM - 1) / Tile::BM;
  if (gx > 0x7fffffff || gy > 65535)
    HS_FAIL(kShape, "GEMM of ", M, "x", N, " exceeds the CUDA grid (at most ", 65535 * Tile::BM, " rows)");
  const dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)(p.items < kMaxGridZ ? p.items : kMaxGridZ));
  tc_gemm_kernel<Problem, Tile, T><<<grid, Tile::kThreads, 0, stream>>>(p);
  HS_CUDA_CHECK_LAUNCH("tc_gemm_kernel");
  return Status::ok();
}

template <class Tile, class T>
Status dense_tc(const GemmArgs& args, int64_t items, GemmElem h, cudaStream_t stream) {
  return with_dense<T>(args, items, h, [&](const auto& p) { return launch_tc<Tile, T>(p, args.M, args.N, stream); });
}

template <class Tile, class T>
Status conv_tc(const Conv2dArgs& args, GemmElem h, cudaStream_t stream) {
  const int64_t M = args.out_channels / args.groups, N = args.batch * args.out_h * args.out_w;
  if (args.w_elem == GemmElem::kF32) return launch_tc<Tile, T>(make_conv<F32>(args), M, N, stream);
  if (args.w_elem != h) HS_FAIL(kType, "conv2d: weights of another 16-bit type than the MMA's");
  return launch_tc<Tile, T>(make_conv<T>(args), M, N, stream);
}

}  // namespace

namespace detail {

Status gemm_tc(const GemmArgs& args, int64_t items, GemmKernel kernel, MmaType mma, cudaStream_t stream) {
  const bool bf = mma == MmaType::kBF16, big = kernel == GemmKernel::kTc128;
  const GemmElem h = bf ? GemmElem::kBF16 : GemmElem::kF16;
  if (big) return bf ? dense_tc<Tile128, BF16>(args, items, h, stream) : dense_tc<Tile128, F16>(args, items, h, stream);
  return bf ? dense_tc<Tile64, BF16>(args, items, h, stream) : dense_tc<Tile64, F16>(args, items, h, stream);
}

Status conv2d_tc(const Conv2dArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream) {
  const bool bf = mma == MmaType::kBF16, big = kernel == GemmKernel::kTc128;
  const GemmElem h = bf ? GemmElem::kBF16 : GemmElem::kF16;
  if (big) return bf ? conv_tc<Tile128, BF16>(args, h, stream) : conv_tc<Tile128, F16>(args, h, stream);
  return bf ? conv_tc<Tile64, BF16>(args, h, stream) : conv_tc<Tile64, F16>(args, h, stream);
}

}  // namespace detail
}  // namespace hs::cuda
