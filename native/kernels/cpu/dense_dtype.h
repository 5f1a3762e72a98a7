// The dense kernels (MatMul, Gemm, Conv, ConvTranspose) compute in float32. Other float dtypes
// (float16, bfloat16, float64) are converted to float32 on the way in and back on the way out:
// these helpers do the two conversions.
#pragma once
#include <cstring>
#include <vector>

#include "kernels/cpu/common.h"

namespace hs::cpu {

// `t` itself when it is float32, else a float32 copy; an undefined tensor stays undefined.
inline Result<Tensor> as_float32(const Tensor& t) {
  if (!t.defined() || t.dtype() == DType::kFloat32) return t;
  Tensor out = Tensor::empty(DType::kFloat32, t.shape());
  float* dst = out.data<float>();
  const int64_t n = t.numel();
  Status st = dispatch(t.dtype(), kFloats, "float conversion", [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* src = t.data<T>();
    for (int64_t i = 0; i < n; ++i) dst[i] = (float)to_float(src[i]);
    return Status::ok();
  });
  if (!st.is_ok()) return st;
  return out;
}

// Writes the float32 `values` into `out` (same element count), converting to out's dtype.
inline Status store_from_float32(const Tensor& values, Tensor* out) {
  if (out->dtype() == DType::kFloat32) {
    if (out->raw() != values.raw()) std::memcpy(out->raw(), values.raw(), values.nbytes());
    return Status::ok();
  }
  const float* src = values.data<float>();
  const int64_t n = values.numel();
  return dispatch(out->dtype(), kFloats, "float conversion", [&](auto tag) -> Status {
    using T = decltype(tag);
    T* dst = out->data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, double>) dst[i] = src[i];
      else dst[i] = from_float<T>(src[i]);
    }
    return Status::ok();
  });
}

// Writes double `values` (out's element count) into float tensor `out`, rounding to its dtype.
inline Status store_from_double(const std::vector<double>& values, Tensor* out) {
  return dispatch(out->dtype(), kFloats, "float conversion", [&](auto tag) -> Status {
    using T = decltype(tag);
    T* dst = out->data<T>();
    for (size_t i = 0; i < values.size(); ++i) {
      if constexpr (is_half<T>::value) dst[i] = from_float<T>((float)values[i]);
      else dst[i] = (T)values[i];
    }
    return Status::ok();
  });
}

}  // namespace hs::cpu
