// Accumulation types for reducing kernels (Reduce*, CumSum, ArgMax, normalisations): each
// element type is loaded into, and summed in, a wider or computable type, then stored back.
// float16/bfloat16 compute in float; integers sum in 64 bits, which wraps to the same value
// as summing in the narrow type once stored.
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/common.h"

namespace hs::cpu {

template <typename T> struct AccTypeOf { using type = T; };
template <> struct AccTypeOf<Half> { using type = float; };
template <> struct AccTypeOf<BFloat16> { using type = float; };
template <> struct AccTypeOf<bool> { using type = int64_t; };
template <> struct AccTypeOf<int8_t> { using type = int64_t; };
template <> struct AccTypeOf<int16_t> { using type = int64_t; };
template <> struct AccTypeOf<int32_t> { using type = int64_t; };
template <> struct AccTypeOf<uint8_t> { using type = uint64_t; };
template <> struct AccTypeOf<uint16_t> { using type = uint64_t; };
template <> struct AccTypeOf<uint32_t> { using type = uint64_t; };
template <typename T> using AccType = typename AccTypeOf<T>::type;

// float32, float64, float16, bfloat16.
template <typename T>
inline constexpr bool kIsFloatType = std::is_floating_point_v<T> || is_half<T>::value;

// dispatch() instantiates its callback for every dtype and rejects the disallowed ones at run
// time; a callback whose body only compiles for some types returns this for the others.
inline Status dtype_not_supported(const std::string& op, DType dtype) {
  return Status(StatusCode::kType, str_cat(op, " does not support dtype ", dtype_name(dtype)));
}

// Element -> accumulator (A may differ from AccType<T>, e.g. double for integer logarithms).
template <typename A, typename T>
inline A load_as(T v) {
  if constexpr (is_half<T>::value) return static_cast<A>(to_float(v));
  else return static_cast<A>(v);
}

// Accumulator -> element.
template <typename T, typename A>
inline T store_as(A v) {
  if constexpr (is_half<T>::value) return from_float<T>(static_cast<float>(v));
  else return static_cast<T>(v);
}

}  // namespace hs::cpu
