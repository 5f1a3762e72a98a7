// Unique: the distinct elements of X (flattened), or its distinct slices along `axis`, with
// indices (each one's first position in X), inverse_indices (for each element or slice of X, its
// position in Y) and counts. sorted=1 (default) orders them ascending (slices compared
// lexicographically), sorted=0 by first occurrence.
#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "kernels/cpu/axis_layout.h"

namespace hs::cpu {
namespace {

class Unique final : public KernelBase {
 public:
  explicit Unique(const KernelInfo& info)
      : has_axis_(info.node.attr("axis") != nullptr), axis_(info.node.attr_int("axis", 0)),
        sorted_(info.node.attr_int("sorted", 1) != 0) {}

  Status compute(KernelContext& ctx) const override {
    const char* op = "Unique";
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    int64_t axis = 0;
    AxisLayout l{1, x->numel(), 1};  // no axis: elements of X flattened
    if (has_axis_) {
      HS_RETURN_IF_ERROR(normalize_axis_of(op, axis_, x->rank(), &axis));
      l = layout_around(x->shape(), axis);
    }
    return dispatch(x->dtype(), kNumeric | kBoolType, op, [&](auto tag) -> Status {
      using T = decltype(tag);
      const T* d = x->data<T>();
      // Slice s as a vector of its elements (outer-major), the key it is compared by.
      auto slice = [&](int64_t s) {
        std::vector<T> v;
        v.reserve((size_t)(l.outer * l.inner));
        for (int64_t o = 0; o < l.outer; ++o)
          for (int64_t i = 0; i < l.inner; ++i) v.push_back(d[(o * l.axis_len + s) * l.inner + i]);
        return v;
      };
      auto less = [](const std::vector<T>& a, const std::vector<T>& b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](T p, T q) {
          if constexpr (is_half<T>::value) return to_float(p) < to_float(q);
          else return p < q;
        });
      };
      // key -> unique number in order of first occurrence
      std::map<std::vector<T>, int64_t, decltype(less)> first(less);
      std::vector<int64_t> first_at, counts, inverse((size_t)l.axis_len);
      for (int64_t s = 0; s < l.axis_len; ++s) {
        auto [it, added] = first.emplace(slice(s), (int64_t)first_at.size());
        if (added) first_at.push_back(s), counts.push_back(0);
        ++counts[(size_t)it->second];
        inverse[(size_t)s] = it->second;
      }
      // position[u]: where unique number u goes in Y.
      const int64_t n = (int64_t)first_at.size();
      std::vector<int64_t> order((size_t)n), position((size_t)n);
      if (sorted_) {
        int64_t k = 0;
        for (const auto& entry : first) order[(size_t)k++] = entry.second;
      } else {
        for (int64_t u = 0; u < n; ++u) order[(size_t)u] = u;
      }
      for (int64_t k = 0; k < n; ++k) position[(size_t)order[(size_t)k]] = k;

      Shape y_shape = has_axis_ ? x->shape() : Shape{n};
      y_shape[(size_t)(has_axis_ ? axis : 0)] = n;
      T* y = ctx.output(0, x->dtype(), y_shape)->data<T>();
      for (int64_t o = 0; o < l.outer; ++o)
        for (int64_t k = 0; k < n; ++k)
          std::memcpy(y + (o * n + k) * l.inner, d + (o * l.axis_len + first_at[(size_t)order[(size_t)k]]) * l.inner,
                      (size_t)l.inner * sizeof(T));
      int64_t* indices = ctx.num_outputs() > 1 ? ctx.output(1, DType::kInt64, {n})->data<int64_t>() : nullptr;
      int64_t* inverse_out = ctx.num_outputs() > 2 ? ctx.output(2, DType::kInt64, {l.axis_len})->data<int64_t>() : nullptr;
      int64_t* counts_out = ctx.num_outputs() > 3 ? ctx.output(3, DType::kInt64, {n})->data<int64_t>() : nullptr;
      for (int64_t k = 0; k < n; ++k) {
        if (indices) indices[k] = first_at[(size_t)order[(size_t)k]];
        if (counts_out) counts_out[k] = counts[(size_t)order[(size_t)k]];
      }
      if (inverse_out)
        for (int64_t s = 0; s < l.axis_len; ++s) inverse_out[s] = position[(size_t)inverse[(size_t)s]];
      return Status::ok();
    });
  }

 private:
  bool has_axis_;
  int64_t axis_;
  bool sorted_;
};

}  // namespace

HS_REGISTER_KERNEL("", "Unique", Unique);

}  // namespace hs::cpu
