#include "kernels/cpu/int_gemm_split.h"

#include <vector>

namespace hs::cpu {

void split_int_gemm(int64_t M, int64_t N, int64_t K, bool split_a, const int32_t* split, const GemmOperand& other,
                    int32_t* c, ThreadPool* pool) {
  const size_t count = (size_t)(split_a ? M * K : K * N);
  std::vector<float> hi(count), lo(count);
  for (size_t i = 0; i < count; ++i) {
    const int32_t low = split[i] & 15;  // two's complement: the value's residue mod 16
    lo[i] = (float)low;
    hi[i] = (float)((split[i] - low) / 16);
  }
  std::vector<float> c_hi((size_t)(M * N)), c_lo((size_t)(M * N));
  const int64_t ld = split_a ? K : N;
  for (auto [part, out] : {std::pair{&hi, &c_hi}, std::pair{&lo, &c_lo}}) {
    const GemmOperand mine{part->data(), ld, false};
    sgemm_ex(M, N, K, 1.f, split_a ? mine : other, split_a ? other : mine, 0.f, out->data(), N, GemmEpilogue{}, pool);
  }
  for (size_t i = 0; i < (size_t)(M * N); ++i) c[i] = (int32_t)c_hi[i] * 16 + (int32_t)c_lo[i];
}

}  // namespace hs::cpu
