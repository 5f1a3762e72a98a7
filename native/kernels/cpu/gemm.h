// Single-precision GEMM for the CPU kernels: C = alpha * op(A) * op(B) + beta * C on row-major
// matrices, where op(X) is X or X^T. Blocked and packed (BLIS-style) around a register-tiled
// micro-kernel chosen at run time for the CPU (AVX-512, AVX2+FMA, or portable C++), threaded
// over a ThreadPool. An epilogue (bias per row or per column, then an activation) is applied to
// each output tile as soon as its sum is complete, while it is still in cache.
//
// Constant operands (weights) can be packed once into the micro-kernel's panel layout
// (PackedMatrix) and reused by every call; B can also be read in place through a table of row
// offsets, which is how convolutions multiply their input without an im2col matrix.
#pragma once
#include <cstdint>
#include <memory>

#include "hs/thread_pool.h"
#include "kernels/cpu/activation.h"

namespace hs::cpu {

// C = alpha * op(A) * op(B) + beta * C. op(A) is M x K, op(B) is K x N, C is M x N; lda/ldb/ldc are
// the row strides of A, B and C as stored. beta == 0 ignores C's previous contents (NaN too).
// `pool` may be nullptr (single-threaded).
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool);

// What is applied to each finished output element C[m][n], in this order:
//   + row_bias[m] (if set) + col_bias[n] (if set), then the activation.
struct GemmEpilogue {
  const float* row_bias = nullptr;  // M values (convolution: one per output channel)
  const float* col_bias = nullptr;  // N values (MatMul / Gemm bias along the last axis)
  Activation activation;
};

// An operand packed once in the current CPU's micro-kernel layout: A (M x K, times alpha) in
// row panels or B (K x N) in column panels. Immutable after packing, so shared across threads.
class PackedMatrix {
 public:
  enum class Side : uint8_t { kA, kB };
  // Packs op(A) (M x K) scaled by alpha, or op(B) (K x N).
  static PackedMatrix pack_a(bool transA, int64_t M, int64_t K, const float* A, int64_t lda, float alpha = 1.f);
  static PackedMatrix pack_b(bool transB, int64_t K, int64_t N, const float* B, int64_t ldb);

  bool empty() const { return !data_; }
  Side side() const { return side_; }
  int64_t rows() const { return rows_; }  // M for A, K for B
  int64_t cols() const { return cols_; }  // K for A, N for B
  const float* data() const { return data_.get(); }

 private:
  Side side_ = Side::kA;
  int64_t rows_ = 0, cols_ = 0;
  std::shared_ptr<float> data_;
};

// One operand of sgemm_ex, in this order of preference:
//   packed       a PackedMatrix;
//   row_offsets  (B only) B read in place, never packed: row k is data + row_offsets[k] (K entries),
//                its N columns contiguous; this is how convolutions read their input directly;
//   data         a row-major matrix with row stride `ld`, read transposed if `trans`, packed on the fly.
struct GemmOperand {
  const float* data = nullptr;
  int64_t ld = 0;
  bool trans = false;
  const PackedMatrix* packed = nullptr;
  const int64_t* row_offsets = nullptr;
};

// C = alpha * A * B + beta * C, then the epilogue. alpha applies to unpacked A only (a packed A
// carries its own). The general entry point behind sgemm.
void sgemm_ex(int64_t M, int64_t N, int64_t K, float alpha, const GemmOperand& A, const GemmOperand& B,
              float beta, float* C, int64_t ldc, const GemmEpilogue& epilogue, ThreadPool* pool);

// True when a GEMM (or a convolution as one) of this size is worth splitting across threads: from
// 2^19 multiply-adds, 6-10 us on one core here, against a hand-off of 1-3 us to the spinning pool.
bool gemm_worth_threading(int64_t M, int64_t N, int64_t K);

// Name of the micro-kernel in use ("avx512", "avx2", "generic"), for benches and logs.
const char* gemm_kernel_name();

// The vector instruction set the dense kernels use (the GEMM's choice, so HS_GEMM_KERNEL forces
// every kernel onto the same fallback).
enum class SimdLevel : uint8_t { kGeneric, kAvx2, kAvx512 };
SimdLevel simd_level();

}  // namespace hs::cpu
