// Vectorisable reductions over one contiguous row (float or double): eight independent partial
// results per loop so the compiler can keep them in SIMD lanes without reassociating, plus the
// mean / inverse standard deviation pair shared by the normalisation kernels.
#pragma once
#include <cmath>
#include <cstdint>

namespace hs::cpu {

// max(x[0..n)), n > 0.
template <typename C>
C row_max(const C* x, int64_t n) {
  C best = x[0];
  int64_t i = 0;
  if (n >= 8) {
    C lanes[8];
    for (int j = 0; j < 8; ++j) lanes[j] = x[j];
    for (i = 8; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) lanes[j] = x[i + j] > lanes[j] ? x[i + j] : lanes[j];
    for (int j = 0; j < 8; ++j) best = lanes[j] > best ? lanes[j] : best;
  }
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  return best;
}

// sum(x[0..n)).
template <typename C>
C row_sum(const C* x, int64_t n) {
  C lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lanes[j] += x[i + j];
  C sum = 0;
  for (int j = 0; j < 8; ++j) sum += lanes[j];
  for (; i < n; ++i) sum += x[i];
  return sum;
}

// sum((x[0..n) - center)^2).
template <typename C>
C row_sum_squared_deviation(const C* x, int64_t n, C center) {
  C lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lanes[j] += (x[i + j] - center) * (x[i + j] - center);
  C sum = 0;
  for (int j = 0; j < 8; ++j) sum += lanes[j];
  for (; i < n; ++i) sum += (x[i] - center) * (x[i] - center);
  return sum;
}

template <typename C>
struct RowStats {
  C mean;
  C inv_std;  // 1 / sqrt(population variance + epsilon)
};

// Two passes (mean, then squared deviations) rather than sum and sum of squares, which cancel
// catastrophically when the mean is large against the spread. n > 0.
template <typename C>
RowStats<C> row_stats(const C* x, int64_t n, C epsilon) {
  const C mean = row_sum(x, n) / static_cast<C>(n);
  const C variance = row_sum_squared_deviation(x, n, mean) / static_cast<C>(n);
  return {mean, C(1) / std::sqrt(variance + epsilon)};
}

}  // namespace hs::cpu
