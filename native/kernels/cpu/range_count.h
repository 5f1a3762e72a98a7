// How many values Range(start, limit, delta) makes: max(ceil((limit - start) / delta), 0), counted
// exactly in integer arithmetic for integer types. Shared by the CPU kernel (shape_ops.cpp) and the
// CUDA one; delta must not be 0.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace hs::cpu {

template <typename T>
int64_t range_count(T start, T limit, T delta) {
  int64_t count;
  if constexpr (std::is_integral_v<T>) {
    const int64_t span = (int64_t)limit - (int64_t)start, d = delta;
    count = span / d + ((span % d != 0 && ((span < 0) == (d < 0))) ? 1 : 0);
  } else {
    count = (int64_t)std::ceil(((double)limit - (double)start) / (double)delta);
  }
  return std::max(count, (int64_t)0);
}

}  // namespace hs::cpu
