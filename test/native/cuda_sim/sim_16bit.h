// The attention kernels' 16-bit element types on the host, for the programs that check them through
// cuda_sim: conversions, the AttnDType that names each, and the relative tolerance of a result
// stored in it: 2^-(mantissa bits), twice rounding's worst error.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <vector>

#include "kernels/cuda/attention_types.h"

namespace sim_test {

template <class T>
struct Dtype;
template <>
struct Dtype<__half> {
  static constexpr hs::cuda::AttnDType kind = hs::cuda::AttnDType::kFloat16;
  static constexpr const char* name = "fp16";
  static constexpr double rtol = 1.0 / 1024;
  static __half from(float v) { return __float2half_rn(v); }
  static float to(__half v) { return __half2float(v); }
};
template <>
struct Dtype<__nv_bfloat16> {
  static constexpr hs::cuda::AttnDType kind = hs::cuda::AttnDType::kBFloat16;
  static constexpr const char* name = "bf16";
  static constexpr double rtol = 1.0 / 128;
  static __nv_bfloat16 from(float v) { return __float2bfloat16_rn(v); }
  static float to(__nv_bfloat16 v) { return __bfloat162float(v); }
};

template <class T>
std::vector<T> rounded(const std::vector<float>& v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = Dtype<T>::from(v[i]);
  return out;
}

// Elements [begin, begin + n) of a 16-bit array as floats (all of it by default).
template <class T>
std::vector<float> widened(const std::vector<T>& v, size_t begin = 0, size_t n = size_t(-1)) {
  if (n == size_t(-1)) n = v.size() - begin;
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = Dtype<T>::to(v[begin + i]);
  return out;
}

}  // namespace sim_test
