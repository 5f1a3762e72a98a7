// Shapes as the builder knows them before any input is seen: each dimension is a fixed size, a
// symbol (a name for a size fixed at run time: a graph input's dim_param, or a dimension carried
// unchanged from one) or unknown. Two dimensions are provably equal only when both are the same
// fixed size or the same symbol; an unknown dimension equals nothing, not even itself.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "hs/dtype.h"
#include "hs/tensor.h"

namespace hs::passes {

struct SymDim {
  int64_t value = -1;  // >= 0 when fixed
  std::string symbol;  // non-empty when symbolic

  static SymDim fixed(int64_t v) { return SymDim{v, {}}; }
  static SymDim unknown() { return SymDim{}; }
  bool is_fixed() const { return value >= 0; }
  bool is_known() const { return value >= 0 || !symbol.empty(); }
};

inline bool same_dim(const SymDim& a, const SymDim& b) {
  if (a.is_fixed() || b.is_fixed()) return a.value == b.value;
  return !a.symbol.empty() && a.symbol == b.symbol;
}

struct ValueType {
  DType dtype = DType::kUndefined;
  bool has_rank = false;
  std::vector<SymDim> dims;  // meaningful when has_rank

  int64_t rank() const { return has_rank ? (int64_t)dims.size() : -1; }
  bool is_static() const {
    if (!has_rank) return false;
    for (const SymDim& d : dims) if (!d.is_fixed()) return false;
    return true;
  }
  Shape static_shape() const {  // only when is_static()
    Shape s;
    for (const SymDim& d : dims) s.push_back(d.value);
    return s;
  }
  static ValueType of_tensor(const Tensor& t) {
    ValueType v{t.dtype(), true, {}};
    for (int64_t d : t.shape()) v.dims.push_back(SymDim::fixed(d));
    return v;
  }
};

using TypeMap = std::map<std::string, ValueType>;

// Both shapes known, of equal rank, every dimension provably equal.
inline bool same_shape(const ValueType& a, const ValueType& b) {
  if (!a.has_rank || !b.has_rank || a.dims.size() != b.dims.size()) return false;
  for (size_t i = 0; i < a.dims.size(); ++i) if (!same_dim(a.dims[i], b.dims[i])) return false;
  return true;
}

// The broadcast of two dimensions, as far as it can be known (unknown when it depends on values).
inline SymDim broadcast_dim(const SymDim& a, const SymDim& b) {
  if (a.value == 1) return b;
  if (b.value == 1) return a;
  if (same_dim(a, b)) return a;
  // A fixed size other than 1 wins: the other is either equal or 1 (or the model is invalid).
  if (a.value > 1 && !b.is_fixed()) return a;
  if (b.value > 1 && !a.is_fixed()) return b;
  return SymDim::unknown();
}

// A product of dimensions: a fixed factor times a multiset of symbols (for Reshape and Flatten,
// which must divide products of symbolic dimensions). Invalid once an unknown dimension enters.
struct DimProduct {
  int64_t factor = 1;
  std::multimap<std::string, int> symbols;
  bool valid = true;

  void multiply(const SymDim& d) {
    if (d.is_fixed()) factor *= d.value;
    else if (!d.symbol.empty()) symbols.emplace(d.symbol, 0);
    else valid = false;
  }
  // this / other, as a dimension when it is exactly one (a fixed size or a single symbol).
  SymDim divide(const DimProduct& other) const {
    if (!valid || !other.valid || other.factor == 0 || factor % other.factor != 0) return SymDim::unknown();
    std::multimap<std::string, int> left = symbols;
    for (auto& [sym, unused] : other.symbols) {
      auto it = left.find(sym);
      if (it == left.end()) return SymDim::unknown();
      left.erase(it);
    }
    const int64_t q = factor / other.factor;
    if (left.empty()) return SymDim::fixed(q);
    if (left.size() == 1 && q == 1) return SymDim{-1, left.begin()->first};
    return SymDim::unknown();
  }
};

}  // namespace hs::passes
