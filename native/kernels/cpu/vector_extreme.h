// NaN-propagating max / min of float or double data in explicit 16-byte GCC vectors (native on
// every x86-64 CPU). Written as scalar selects, `(v > best || isnan(v)) ? v : best` compiles to
// compare-and-jump code; as a vector ternary it is always branch-free.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace hs::cpu {

// The larger (kMax) or smaller of acc and v; NaN wins, as in numpy.
template <bool kMax, typename A>
inline A extreme_of(A acc, A v) {
  const bool take = kMax ? v > acc : v < acc;
  return (take || v != v) ? v : acc;
}

template <bool kMax, typename V>
inline void pick_extreme(V& best, const V& v) {
  if constexpr (kMax) best = ((v > best) | (v != v)) ? v : best;
  else best = ((v < best) | (v != v)) ? v : best;
}

// extreme_of over acc and x[0..n), two vectors deep. A is float or double.
template <bool kMax, typename A>
A fold_extreme(const A* x, int64_t n, A acc) {
  static_assert(std::is_floating_point_v<A>, "float or double");
  typedef A V __attribute__((vector_size(16)));
  constexpr int64_t W = 16 / sizeof(A);
  int64_t i = 0;
  if (n >= 2 * W) {
    V first, second, v;
    std::memcpy(&first, x, sizeof first);
    std::memcpy(&second, x + W, sizeof second);
    for (i = 2 * W; i + 2 * W <= n; i += 2 * W) {
      std::memcpy(&v, x + i, sizeof v);
      pick_extreme<kMax>(first, v);
      std::memcpy(&v, x + i + W, sizeof v);
      pick_extreme<kMax>(second, v);
    }
    for (int64_t j = 0; j < W; ++j) acc = extreme_of<kMax>(extreme_of<kMax>(acc, first[j]), second[j]);
  }
  for (; i < n; ++i) acc = extreme_of<kMax>(acc, x[i]);
  return acc;
}

// acc[i] = extreme_of(acc[i], x[i]) for i < n. A is float or double.
template <bool kMax, typename A>
void fold_extreme_elementwise(A* acc, const A* x, int64_t n) {
  static_assert(std::is_floating_point_v<A>, "float or double");
  typedef A V __attribute__((vector_size(16)));
  constexpr int64_t W = 16 / sizeof(A);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V best, v;
    std::memcpy(&best, acc + i, sizeof best);
    std::memcpy(&v, x + i, sizeof v);
    pick_extreme<kMax>(best, v);
    std::memcpy(acc + i, &best, sizeof best);
  }
  for (; i < n; ++i) acc[i] = extreme_of<kMax>(acc[i], x[i]);
}

}  // namespace hs::cpu
