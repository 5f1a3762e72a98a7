// The tensor-core GEMM kernel over the problems of gemm_problem.cuh (launched by gemm_tc.cu):
// mma.sync.m16n8k16 with fp16 or bf16 operands and fp32 accumulation (sm_80+; compiled for sm_75
// as a scalar loop over the same shared-memory tiles, so every target computes the same thing).
// No launch here (gemm_tc.cu launches), so test/native/gemm_tc_sim.cpp can run the kernel on the host.
// Launch shape: a block computes a BM x BN tile with (BM/WM) x (BN/WN) warps of WM x WN each, K in
// steps of BK. Every tile shape runs the same sequence of MMAs along k for an output element (BK
// only chunks it), so a row's result does not depend on the tile (or the batch size that chose it).
// Tiles reach shared memory as As[m][k] and Bs[n][k] in the MMA type, rows padded by 8 elements so
// that the fragment loads (two k-adjacent 16-bit values per 32-bit word) of a warp's 8 rows x 4
// column pairs hit 32 distinct banks. Two loaders fill them:
//   element: each thread loads its share of the tiles as floats, through the problem's strided
//            loads (k or m/n fastest across the warp, whichever is contiguous), four in flight (a
//            register prefetch of the next tile made the strided and implicit-convolution index
//            math spill; other resident blocks hide the latency);
//   vector:  dense problems whose A and B rows are contiguous in k and 16-byte aligned (gemm_tc.cu
//            checks): 4 floats of A and 8 weights of B per load, the next k-step's loads issued
//            into registers before the current step's MMAs. Same values in shared memory as the
//            element loader (16-bit B copied as is, int8 B widened exactly).
// Fragment layout (PTX ISA, mma.m16n8k16, g = lane / 4, t = lane % 4):
//   A: a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)     [row, k]
//   B: b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g)
//   C: c0 c1 (g, 2t and 2t+1), c2 c3 (g+8, 2t and 2t+1)                         [row, col]
// The epilogue (alpha, bias, beta * D, activation, store) is the problem's, in float32.
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/gemm_problem.cuh"

namespace hs::cuda::tc_detail {

using namespace gemm_detail;

template <int BM_, int BN_, int WM_, int WN_, int BK_ = 32>
struct TcTile {
  static constexpr int BM = BM_, BN = BN_, WM = WM_, WN = WN_;
  static constexpr int BK = BK_, kLd = BK + 8;  // shared row length in 16-bit elements
  static constexpr int kWarpsM = BM / WM, kWarpsN = BN / WN, kThreads = kWarpsM * kWarpsN * 32;
  static constexpr int kMT = WM / 16, kNT = WN / 8;  // MMA tiles per warp
  static constexpr size_t kSmemBytes = (size_t)(BM + BN) * kLd * sizeof(unsigned short);
  static constexpr int kAVecs = BM * BK / 4 / kThreads, kBVecs = BN * BK / 8 / kThreads;  // vector loads per thread
  static_assert(BM % WM == 0 && BN % WN == 0 && WM % 16 == 0 && WN % 8 == 0, "warp tiles must split the block tile");
  static_assert((BM * BK) % (4 * kThreads) == 0 && (BN * BK) % (8 * kThreads) == 0,
                "tile loads must split evenly across threads, four (A) and eight (B) at a time");
  static_assert(kLd % 8 == 0, "a row of 8 16-bit elements must start 16-byte aligned");
  static_assert(kSmemBytes <= 48 * 1024, "static shared memory is limited to 48 KiB");
};
using Tile64 = TcTile<64, 64, 32, 32>;    // 4 warps, 2 x 4 MMA tiles each
using Tile128 = TcTile<128, 64, 32, 32>;  // 8 warps, 2 x 4 MMA tiles each
// 4 warps side by side, 1 MMA tile each, for M <= 16 (decode): the weights stream through, and with
// one block per SM (N / 32 blocks) only a long k-step keeps enough of them in flight (16 KiB).
using Tile16 = TcTile<16, 32, 16, 8, 256>;

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

// The element loader: this thread's share of the A and B tiles at k0, straight into shared memory.
template <class Problem, class Tile, class T>
__device__ __forceinline__ void load_tiles_elementwise(const Problem& p, const typename Problem::Item& it, int64_t m0,
                                                       int64_t n0, int64_t k0, int tid, unsigned short* as,
                                                       unsigned short* bs) {
  constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, kLd = Tile::kLd, kThreads = Tile::kThreads;
  const int64_t M = p.M(), N = p.N(), K = p.K();
  const bool a_k_fast = p.a_k_contiguous(), b_k_fast = p.b_k_contiguous();
  // Element e of the tile: (row, k) with k or the row fastest across the warp. Partly unrolled:
  // four loads in flight per thread without every address held in registers.
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
}

// The vector loader's registers: this thread's A and B vectors of one k-step, already in the MMA
// type. Vector v of A is row v / (BK / 4), k 4 (v % (BK / 4)) .. + 3 of the tile; of B, column
// v / (BK / 8), k 8 (v % (BK / 8)) .. + 7.
template <class Tile>
struct TileRegs {
  uint2 a[Tile::kAVecs];  // 4 x 16 bits
  uint4 b[Tile::kBVecs];  // 8 x 16 bits
};

template <class T>
__device__ __forceinline__ unsigned pack2(float lo, float hi) {
  return (unsigned)to_bits<T>(lo) | ((unsigned)to_bits<T>(hi) << 16);
}

// Loads the k-step at k0 of a dense problem (A float32, B 16-bit of type T or int8) into `r`.
// Vectors that cross the matrix edge fall back to the problem's bounded element loads.
template <class Tile, class T, class EB>
__device__ __forceinline__ void load_tiles_vector(const DenseGemm<F32, EB>& p, const typename DenseGemm<F32, EB>::Item& it,
                                                  int64_t m0, int64_t n0, int64_t k0, int tid, TileRegs<Tile>& r) {
  constexpr int kAPerRow = Tile::BK / 4, kBPerCol = Tile::BK / 8;
  const int64_t M = p.g.M, N = p.g.N, K = p.g.K;
#pragma unroll
  for (int i = 0; i < Tile::kAVecs; ++i) {
    const int v = tid + i * Tile::kThreads;
    const int64_t m = m0 + v / kAPerRow, k = k0 + 4 * (v % kAPerRow);
    float x[4];
    if (m < M && k + 4 <= K) {
      const float4 q = *reinterpret_cast<const float4*>(static_cast<const float*>(it.a) + m * p.g.a_rs + k);
      x[0] = q.x, x[1] = q.y, x[2] = q.z, x[3] = q.w;
    } else {
#pragma unroll
      for (int j = 0; j < 4; ++j) x[j] = (m < M && k + j < K) ? p.load_a(it, m, k + j) : 0.f;
    }
    r.a[i] = uint2{pack2<T>(x[0], x[1]), pack2<T>(x[2], x[3])};
  }
#pragma unroll
  for (int i = 0; i < Tile::kBVecs; ++i) {
    const int v = tid + i * Tile::kThreads;
    const int64_t n = n0 + v / kBPerCol, k = k0 + 8 * (v % kBPerCol);
    const bool whole = n < N && k + 8 <= K;
    if constexpr (std::is_same_v<EB, I8>) {
      float x[8];
      if (whole) {
        const uint2 q = *reinterpret_cast<const uint2*>(static_cast<const signed char*>(it.b) + n * p.g.b_cs + k);
#pragma unroll
        for (int j = 0; j < 8; ++j) x[j] = (float)(signed char)((j < 4 ? q.x : q.y) >> (8 * (j & 3)));
      } else {
#pragma unroll
        for (int j = 0; j < 8; ++j) x[j] = (n < N && k + j < K) ? p.load_b(it, k + j, n) : 0.f;
      }
      r.b[i] = uint4{pack2<T>(x[0], x[1]), pack2<T>(x[2], x[3]), pack2<T>(x[4], x[5]), pack2<T>(x[6], x[7])};
    } else {
      static_assert(std::is_same_v<EB, T>, "16-bit B is copied as is: it must be the MMA type");
      if (whole) {
        r.b[i] = *reinterpret_cast<const uint4*>(static_cast<const unsigned short*>(it.b) + n * p.g.b_cs + k);
      } else {
        float x[8];
#pragma unroll
        for (int j = 0; j < 8; ++j) x[j] = (n < N && k + j < K) ? p.load_b(it, k + j, n) : 0.f;
        r.b[i] = uint4{pack2<T>(x[0], x[1]), pack2<T>(x[2], x[3]), pack2<T>(x[4], x[5]), pack2<T>(x[6], x[7])};
      }
    }
  }
}

template <class Tile>
__device__ __forceinline__ void store_tiles(const TileRegs<Tile>& r, int tid, unsigned short* as, unsigned short* bs) {
  constexpr int kAPerRow = Tile::BK / 4, kBPerCol = Tile::BK / 8;
#pragma unroll
  for (int i = 0; i < Tile::kAVecs; ++i) {
    const int v = tid + i * Tile::kThreads;
    *reinterpret_cast<uint2*>(as + (v / kAPerRow) * Tile::kLd + 4 * (v % kAPerRow)) = r.a[i];
  }
#pragma unroll
  for (int i = 0; i < Tile::kBVecs; ++i) {
    const int v = tid + i * Tile::kThreads;
    *reinterpret_cast<uint4*>(bs + (v / kBPerCol) * Tile::kLd + 8 * (v % kBPerCol)) = r.b[i];
  }
}

// Host side: whether the vector loader may run `g` -- every row it reads starts 16-byte aligned
// (8-byte for int8 B): A rows of floats and B columns of weights contiguous in k, their strides (and
// batch strides) multiples of one vector.
inline bool vector_loads_fit(const GemmArgs& g) {
  const auto aligned = [](const void* p, int64_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; };
  const auto strides_multiple_of = [&g](const Strides& s, int64_t q) {
    for (int d = 0; d < g.batch.rank; ++d)
      if (s.s[d] % q) return false;
    return true;
  };
  if (g.a_elem != GemmElem::kF32 || g.b_elem == GemmElem::kF32) return false;
  const int64_t b_vec = g.b_elem == GemmElem::kI8 ? 8 : 16, b_size = g.b_elem == GemmElem::kI8 ? 1 : 2;
  return g.a_cs == 1 && g.a_rs % 4 == 0 && aligned(g.a, 16) && strides_multiple_of(g.a_bs, 4) && g.b_rs == 1 &&
         (g.b_cs * b_size) % b_vec == 0 && aligned(g.b, b_vec) && strides_multiple_of(g.b_bs, b_vec / b_size);
}

// Whether the problem type has the vector loader (dense, A float32, B 16-bit or int8).
template <class Problem, class T>
constexpr bool kHasVectorLoads = false;
template <class T>
constexpr bool kHasVectorLoads<DenseGemm<F32, T>, T> = true;
template <class T>
constexpr bool kHasVectorLoads<DenseGemm<F32, I8>, T> = true;

// The warp's MMAs over one k-step held in shared memory.
template <class Tile, class T>
__device__ __forceinline__ void mma_step(float (&acc)[Tile::kMT][Tile::kNT][4], const unsigned short* as,
                                         const unsigned short* bs, int wm, int wn, int lane) {
#pragma unroll
  for (int kk = 0; kk < Tile::BK; kk += 16) {
#pragma unroll
    for (int i = 0; i < Tile::kMT; ++i)
#pragma unroll
      for (int j = 0; j < Tile::kNT; ++j)
        mma_16x8x16<T>(acc[i][j], as + (wm * Tile::WM + i * 16) * Tile::kLd + kk, Tile::kLd,
                       bs + (wn * Tile::WN + j * 8) * Tile::kLd + kk, Tile::kLd, lane);
  }
}

// kVector: the vector loader (only for problems with kHasVectorLoads, aligned as gemm_tc.cu checks).
template <class Problem, class Tile, class T, bool kVector>
__global__ void __launch_bounds__(Tile::kThreads, 1) tc_gemm_kernel(const Problem p) {
  __shared__ __align__(16) unsigned short as[Tile::BM * Tile::kLd];
  __shared__ __align__(16) unsigned short bs[Tile::BN * Tile::kLd];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / Tile::kWarpsN, wn = warp % Tile::kWarpsN;
  const int64_t m0 = (int64_t)blockIdx.y * Tile::BM, n0 = (int64_t)blockIdx.x * Tile::BN;

  for (int64_t item = blockIdx.z; item < p.items; item += gridDim.z) {
    const typename Problem::Item it = p.item(item);
    const int64_t M = p.M(), N = p.N(), K = p.K();
    float acc[Tile::kMT][Tile::kNT][4] = {};
    if constexpr (kVector) {
      TileRegs<Tile> regs;
      load_tiles_vector<Tile, T>(p, it, m0, n0, 0, tid, regs);
      for (int64_t k0 = 0; k0 < K; k0 += Tile::BK) {
        store_tiles<Tile>(regs, tid, as, bs);
        __syncthreads();
        if (k0 + Tile::BK < K) load_tiles_vector<Tile, T>(p, it, m0, n0, k0 + Tile::BK, tid, regs);  // in flight during the MMAs
        mma_step<Tile, T>(acc, as, bs, wm, wn, lane);
        __syncthreads();
      }
    } else {
      for (int64_t k0 = 0; k0 < K; k0 += Tile::BK) {
        load_tiles_elementwise<Problem, Tile, T>(p, it, m0, n0, k0, tid, as, bs);
        __syncthreads();
        mma_step<Tile, T>(acc, as, bs, wm, wn, lane);
        __syncthreads();
      }
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

}  // namespace hs::cuda::tc_detail
