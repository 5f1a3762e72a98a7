// Hopper warpgroup MMA (wgmma.mma_async, sm_90a only) for 16-bit inputs and fp32 accumulators: the
// shared-memory matrix descriptor, the fences around an MMA batch and the shapes the attention kernel
// uses. Everything below HS_SM90A_DEVICE exists only in the sm_90a device pass; other passes see the
// macro as 0 and must not call these functions.
//
// Register fragments (PTX ISA, "Register Fragments and Shared Memory Matrix Layouts" of wgmma; the
// four warps of a warpgroup own 16 rows each: warp w of the warpgroup holds rows 16w .. 16w + 15;
// lane l, g = l / 4, c = 2 * (l % 4)):
//   accumulator D of m64nNk16 (N / 2 floats), for i < N / 8:
//     d[4i + 0], d[4i + 1] = row 16w + g,     columns 8i + c, 8i + c + 1
//     d[4i + 2], d[4i + 3] = row 16w + g + 8, columns 8i + c, 8i + c + 1
//   A from registers, m64k16 (4 x b32, the low half holds the lower column):
//     a[0] = row 16w + g, k c, c + 1          a[1] = row 16w + g + 8, k c, c + 1
//     a[2] = row 16w + g, k c + 8, c + 9      a[3] = row 16w + g + 8, k c + 8, c + 9
//   So the accumulator columns 16k .. 16k + 15 of an S = Q K^T product, packed pairwise to 16 bits as
//   {d[8k], d[8k+1]}, {d[8k+2], d[8k+3]}, {d[8k+4], d[8k+5]}, {d[8k+6], d[8k+7]}, are exactly the A
//   fragment of k-step k of the next product P V (the FA2 kernel's mma.sync trick, per warpgroup).
//
// Shared-memory operands use the 128-byte swizzle: a tile is stored as column blocks of 64 16-bit
// elements (128 bytes per row), rows consecutive; inside each 1024-byte group of 8 rows the 16-byte
// chunk j of row r sits at chunk position j ^ (r % 8). The hardware applies that XOR to address bits
// [4, 7) from bits [7, 10), so every 8-row group must start at a 1024-byte aligned address.
//   K-major operand (A = Q [m][k], B = K [n][k]: k contiguous): SBO = 1024 (next 8 rows), LBO unused
//   for this swizzle (encoded 1); k-step s inside a 64-wide column block starts 32 * s bytes later.
//   MN-major operand (B = V [k][n]: n contiguous, imm-trans-b = 1): LBO = bytes between two 64-wide
//   column blocks along n, SBO = 1024 (next 8 rows along k); k-step s starts 16 * 128 * s bytes later.
// (CUTLASS writes the same canonical layouts as Swizzle<3,4,3> o ((8,m),(T,2k)) and ((T,8,m),(8,k)).)
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define HS_SM90A_DEVICE 1
#else
#define HS_SM90A_DEVICE 0
#endif

namespace hs::cuda::device {

// Matrix descriptor of a 128-byte-swizzled operand: start address, leading and stride byte offsets
// (each stored >> 4 in 14 bits), base offset 0 (atoms are 1024-aligned), swizzle mode 1 (128 B).
// Plain bit packing, outside the sm_90a guard: test/native/cuda_sim decodes what it packs.
__host__ __device__ __forceinline__ constexpr uint64_t sw128_desc(uint32_t smem_addr, uint32_t lbo_bytes, uint32_t sbo_bytes) {
  return uint64_t((smem_addr & 0x3FFFF) >> 4) | (uint64_t((lbo_bytes >> 4) & 0x3FFF) << 16) |
         (uint64_t((sbo_bytes >> 4) & 0x3FFF) << 32) | (uint64_t(1) << 62);
}

#if HS_SM90A_DEVICE

__device__ __forceinline__ uint32_t smem_u32(const void* ptr) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(ptr));
}

// Generic-proxy shared writes (cp.async, st.shared) made visible to the async proxy that wgmma reads
// through; each writing thread runs it after its writes and before the barrier that publishes them.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// Orders this warpgroup's register and shared accesses before the wgmma batch that follows.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}

// Pins accumulator (or A fragment) registers at this point of the program: the asm statements of an MMA batch do not
// tell the compiler that the registers change until wgmma_wait, so it must not move their other uses
// across the batch (CUTLASS calls this warpgroup_fence_operand).
template <int N>
__device__ __forceinline__ void fence_registers(float (&r)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}
template <int N>
__device__ __forceinline__ void fence_registers(uint32_t (&r)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
#pragma unroll
    for (int k = 0; k < 4; ++k) asm volatile("" : "+r"(r[i][k])::"memory");
}

#define HS_WGMMA_D32_REGS                                                                                      \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define HS_WGMMA_D64_REGS                                                                                      \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, "  \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define HS_WGMMA_D32_OUTS(d)                                                                                  \
  "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), \
      "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),   \
      "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]),  \
      "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
#define HS_WGMMA_D64_OUTS(d)                                                                                   \
  HS_WGMMA_D32_OUTS(d), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]),          \
      "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]),  \
      "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]),  \
      "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]),  \
      "+f"(d[62]), "+f"(d[63])

// d (+)= A B for m64n128k16, A and B K-major in shared memory; scale_d == 0 ignores d's old value.
#define HS_WGMMA_SS_N128(TYPE)                                                                             \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                              \
               "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " " HS_WGMMA_D64_REGS         \
               ", %64, %65, p, 1, 1, 0, 0;\n}\n"                                                           \
               : HS_WGMMA_D64_OUTS(d)                                                                      \
               : "l"(desc_a), "l"(desc_b), "r"(scale_d))
template <typename T>
__device__ __forceinline__ void wgmma_ss_m64n128k16(float (&d)[64], uint64_t desc_a, uint64_t desc_b, int scale_d) {
  if constexpr (std::is_same_v<T, __half>) {
    HS_WGMMA_SS_N128("f16");
  } else {
    HS_WGMMA_SS_N128("bf16");
  }
}

// d += A B for m64nNk16 (scale-d predicate set from a constant 1): A from registers (fragment above),
// B MN-major in shared memory (imm-trans-b 1).
#define HS_WGMMA_RS_N128(TYPE)                                                                             \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"                                              \
               "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " " HS_WGMMA_D64_REGS         \
               ", {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"                                           \
               : HS_WGMMA_D64_OUTS(d)                                                                      \
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(1))
#define HS_WGMMA_RS_N64(TYPE)                                                                              \
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"                                              \
               "wgmma.mma_async.sync.aligned.m64n64k16.f32." TYPE "." TYPE " " HS_WGMMA_D32_REGS          \
               ", {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"                                           \
               : HS_WGMMA_D32_OUTS(d)                                                                      \
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(1))
template <typename T, int N>
__device__ __forceinline__ void wgmma_rs_m64k16(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t desc_b) {
  static_assert(N == 64 || N == 128, "wgmma_rs_m64k16: N is 64 or 128");
  constexpr bool kHalf = std::is_same_v<T, __half>;
  if constexpr (N == 128 && kHalf) {
    HS_WGMMA_RS_N128("f16");
  } else if constexpr (N == 128) {
    HS_WGMMA_RS_N128("bf16");
  } else if constexpr (kHalf) {
    HS_WGMMA_RS_N64("f16");
  } else {
    HS_WGMMA_RS_N64("bf16");
  }
}

#undef HS_WGMMA_SS_N128
#undef HS_WGMMA_RS_N128
#undef HS_WGMMA_RS_N64
#undef HS_WGMMA_D32_REGS
#undef HS_WGMMA_D64_REGS
#undef HS_WGMMA_D32_OUTS
#undef HS_WGMMA_D64_OUTS

#endif  // HS_SM90A_DEVICE

}  // namespace hs::cuda::device
