// Exact products of 8-bit operands through the float GEMM. An operand of integers in [-255, 255]
// (uint8 / int8 values less their zero points) splits into hi * 16 + lo, lo in [0, 15] and hi in
// [-16, 15]; each part times the other operand (integers in [-255, 255] as floats) is a float32
// GEMM whose partial sums are integers below 2^24 while K <= kSplitGemmMaxK, so exact in any
// summation order; C = 16 * hi_product + lo_product in int32. Two float GEMMs at the packed
// kernel's speed instead of one integer loop. (onnxruntime's AVX2 kernel instead sums pairs of
// products in saturating int16.)
#pragma once
#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace hs::cpu {

constexpr int64_t kSplitGemmMaxK = 4096;

// C[M, N] = A[M, K] @ B[K, N] with the side `split_a` says (A, else B) given as int32 values
// (row-major, dense) and the other as a float operand (packed or not).
void split_int_gemm(int64_t M, int64_t N, int64_t K, bool split_a, const int32_t* split, const GemmOperand& other,
                    int32_t* c, ThreadPool* pool);

}  // namespace hs::cpu
