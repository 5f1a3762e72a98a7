// Launchers of the tensor-core GEMM and convolution (gemm_tc_kernel.cuh): the tile of the tactic,
// and the vector loader where the dense problem's rows allow it (A and B contiguous in k, 16-byte
// aligned rows, B 16-bit in the MMA type or int8), else the element loader.
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_tc_kernel.cuh"

namespace hs::cuda {
namespace {

using namespace tc_detail;

constexpr int kMaxGridZ = 65535;

template <class Tile, class T, bool kVector, class Problem>
Status launch_tc(const Problem& p, int64_t M, int64_t N, cudaStream_t stream) {
  const int64_t gx = (N + Tile::BN - 1) / Tile::BN, gy = (M + Tile::BM - 1) / Tile::BM;
  if (gx > 0x7fffffff || gy > 65535)
    HS_FAIL(kShape, "GEMM of ", M, "x", N, " exceeds the CUDA grid (at most ", 65535 * Tile::BM, " rows)");
  const dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)(p.items < kMaxGridZ ? p.items : kMaxGridZ));
  tc_gemm_kernel<Problem, Tile, T, kVector><<<grid, Tile::kThreads, 0, stream>>>(p);
  HS_CUDA_CHECK_LAUNCH("tc_gemm_kernel");
  return Status::ok();
}

template <class Tile, class T>
Status dense_tc(const GemmArgs& args, int64_t items, GemmElem h, cudaStream_t stream) {
  const bool vector = vector_loads_fit(args);
  return with_dense<T>(args, items, h, [&](const auto& p) {
    using Problem = std::decay_t<decltype(p)>;
    if constexpr (kHasVectorLoads<Problem, T>)
      if (vector) return launch_tc<Tile, T, true>(p, args.M, args.N, stream);
    return launch_tc<Tile, T, false>(p, args.M, args.N, stream);
  });
}

template <class Tile, class T>
Status conv_tc(const Conv2dArgs& args, GemmElem h, cudaStream_t stream) {
  const int64_t M = args.out_channels / args.groups, N = args.batch * args.out_h * args.out_w;
  if (args.w_elem == GemmElem::kF32) return launch_tc<Tile, T, false>(make_conv<F32>(args), M, N, stream);
  if (args.w_elem != h) HS_FAIL(kType, "conv2d: weights of another 16-bit type than the MMA's");
  return launch_tc<Tile, T, false>(make_conv<T>(args), M, N, stream);
}

template <class T>
Status dense_tile(const GemmArgs& args, int64_t items, GemmKernel kernel, GemmElem h, cudaStream_t stream) {
  switch (kernel) {
    case GemmKernel::kTc128: return dense_tc<Tile128, T>(args, items, h, stream);
    case GemmKernel::kTc16: return dense_tc<Tile16, T>(args, items, h, stream);
    default: return dense_tc<Tile64, T>(args, items, h, stream);
  }
}

template <class T>
Status conv_tile(const Conv2dArgs& args, GemmKernel kernel, GemmElem h, cudaStream_t stream) {
  switch (kernel) {
    case GemmKernel::kTc128: return conv_tc<Tile128, T>(args, h, stream);
    case GemmKernel::kTc16: return conv_tc<Tile16, T>(args, h, stream);
    default: return conv_tc<Tile64, T>(args, h, stream);
  }
}

}  // namespace

namespace detail {

Status gemm_tc(const GemmArgs& args, int64_t items, GemmKernel kernel, MmaType mma, cudaStream_t stream) {
  if (mma == MmaType::kBF16) return dense_tile<BF16>(args, items, kernel, GemmElem::kBF16, stream);
  return dense_tile<F16>(args, items, kernel, GemmElem::kF16, stream);
}

Status conv2d_tc(const Conv2dArgs& args, GemmKernel kernel, MmaType mma, cudaStream_t stream) {
  if (mma == MmaType::kBF16) return conv_tile<BF16>(args, kernel, GemmElem::kBF16, stream);
  return conv_tile<F16>(args, kernel, GemmElem::kF16, stream);
}

}  // namespace detail
}  // namespace hs::cuda
