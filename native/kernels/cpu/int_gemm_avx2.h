// Exact products of 8-bit operands on AVX2: C[M, N] (int32) = A[M, K] @ B[K, N] where A and B
// hold integers in [-255, 255] (uint8 / int8 values less their zero points) as int16. vpmaddwd
// multiplies 16 int16 pairs and adds each pair into an int32 lane, so one instruction does 16
// multiply-adds (a float FMA does 8) and no sum can overflow: a pair is at most 2 * 255^2, a lane
// at most K * 255^2 < 2^31 for K < 33000 (Int16Panels::fits). onnxruntime's AVX2 kernel
// (vpmaddubsw) saturates instead; this one is exact.
#pragma once
#include <cstdint>
#include <vector>

#include "hs/thread_pool.h"

namespace hs::cpu {

// B in the kernel's layout: panels of 16 columns (zero past N); within a panel, for each pair of
// rows (2q, 2q + 1), the 16 columns' two values side by side (zero past K).
class Int16Panels {
 public:
  static constexpr int64_t kColumns = 16;
  static bool fits(int64_t K) { return K < 33000; }
  static Int16Panels pack(const int32_t* b, int64_t K, int64_t N);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  const int16_t* panel(int64_t p) const { return data_.data() + p * pairs() * 2 * kColumns; }
  int64_t pairs() const { return (k_ + 1) / 2; }
  int64_t panels() const { return (n_ + kColumns - 1) / kColumns; }
  bool empty() const { return data_.empty(); }

 private:
  int64_t k_ = 0, n_ = 0;
  std::vector<int16_t> data_;
};

// Whether int16_gemm runs here (AVX2, and not forced off by HS_GEMM_KERNEL=generic).
bool int16_gemm_available();

// C[M, N] = A[M, K] @ B, A row-major int32 (values in [-255, 255]); threads split B's panels.
void int16_gemm(int64_t M, const int32_t* a, const Int16Panels& b, int32_t* c, ThreadPool* pool);

}  // namespace hs::cpu
