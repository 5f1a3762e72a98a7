// Odometer loops over N-d index spaces with several stride sets at once: the building block of
// the kernels that read or write tensors through arbitrary strides (reductions over any axes,
// Einsum's diagonals, permutations and sums). The innermost dimension is left to the caller's
// callback when it wants a contiguous loop; here every index is visited.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace hs::cpu {

// Calls fn(linear, offsets) for the row-major linear indices [begin, end) of `dims`, where
// offsets[k] = base[k] + sum_d index[d] * strides[k][d]. Offsets are updated incrementally.
template <size_t K, typename Fn>
void for_each_strided(const std::vector<int64_t>& dims, const std::array<const int64_t*, K>& strides,
                      std::array<int64_t, K> base, int64_t begin, int64_t end, Fn&& fn) {
  const size_t rank = dims.size();
  constexpr size_t kInlineRank = 16;  // no heap allocation per call below this rank
  int64_t inline_index[kInlineRank] = {};
  std::vector<int64_t> heap_index(rank > kInlineRank ? rank : 0, 0);
  int64_t* index = rank > kInlineRank ? heap_index.data() : inline_index;
  std::array<int64_t, K> offsets = base;
  int64_t rest = begin;
  for (size_t d = rank; d-- > 0;) {
    index[d] = dims[d] ? rest % dims[d] : 0;
    rest = dims[d] ? rest / dims[d] : 0;
    for (size_t k = 0; k < K; ++k) offsets[k] += index[d] * strides[k][d];
  }
  for (int64_t linear = begin; linear < end; ++linear) {
    fn(linear, offsets);
    for (size_t d = rank; d-- > 0;) {
      for (size_t k = 0; k < K; ++k) offsets[k] += strides[k][d];
      if (++index[d] < dims[d]) break;
      for (size_t k = 0; k < K; ++k) offsets[k] -= index[d] * strides[k][d];
      index[d] = 0;
    }
  }
}

// The offset of row-major linear index `linear` of `dims` (all > 0) through `strides`.
inline int64_t strided_offset(int64_t linear, const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  int64_t offset = 0;
  for (size_t d = dims.size(); d-- > 0;) {
    offset += (linear % dims[d]) * strides[d];
    linear /= dims[d];
  }
  return offset;
}

}  // namespace hs::cpu
