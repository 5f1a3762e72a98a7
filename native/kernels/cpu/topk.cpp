// TopK: the k largest (or, with largest = 0, smallest) elements along an axis and their int64
// indices. k is an attribute before opset 10 and a one-element int64 input after.
//
// Algorithm, per row along the axis: for k <= n/16 a heap of the k best (value, index) pairs seen
// so far, worst on top, so that most elements are rejected by one comparison (O(n + k log k log n)
// for typical data); otherwise all n pairs are gathered and nth_element moves the k best to the
// front in O(n). Either way the k are then sorted best first. Ties put the lower index first;
// NaN counts as larger than every number (numpy's order), which keeps the comparison a strict
// weak order. The output is always sorted (also when sorted = 0, where any order is allowed).
// Parallel over rows.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/cpu/acc_type.h"
#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/output_scratch.h"

namespace hs::cpu {
namespace {

// a < b with NaN above everything.
template <typename A>
inline bool less_nan_last(A a, A b) {
  if constexpr (std::is_floating_point_v<A>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

template <typename T>
void top_k(const T* x, T* values, int64_t* indices, const AxisLayout& l, int64_t k, bool largest, ThreadPool& pool) {
  using A = AccType<T>;
  using Entry = std::pair<A, int64_t>;
  auto before = [largest](const Entry& a, const Entry& b) {
    if (less_nan_last(a.first, b.first)) return !largest;
    if (less_nan_last(b.first, a.first)) return largest;
    return a.second < b.second;
  };
  // Small k: a heap of the k best seen so far, worst on top, which most elements fail to enter
  // after one comparison. Large k: nth_element over the whole row.
  const bool use_heap = k * 16 <= l.axis_len;
  pool.parallel_for(l.outer * l.inner, grain_for(l.axis_len * 4), [&](int64_t begin, int64_t end) {
    std::vector<Entry> best;
    best.reserve(use_heap ? k : l.axis_len);
    for (int64_t r = begin; r < end; ++r) {
      const int64_t o = r / l.inner, i = r % l.inner;
      const T* in = x + o * l.axis_len * l.inner + i;
      best.clear();
      if (use_heap) {
        for (int64_t a = 0; a < k; ++a) best.emplace_back(load_as<A>(in[a * l.inner]), a);
        std::make_heap(best.begin(), best.end(), before);
        for (int64_t a = k; a < l.axis_len; ++a) {
          const Entry candidate(load_as<A>(in[a * l.inner]), a);
          // A later index enters only by a strictly better value (same order as `before`).
          if (!(largest ? less_nan_last(best.front().first, candidate.first)
                        : less_nan_last(candidate.first, best.front().first)))
            continue;
          std::pop_heap(best.begin(), best.end(), before);
          best.back() = candidate;
          std::push_heap(best.begin(), best.end(), before);
        }
        std::sort_heap(best.begin(), best.end(), before);
      } else {
        for (int64_t a = 0; a < l.axis_len; ++a) best.emplace_back(load_as<A>(in[a * l.inner]), a);
        if (k < l.axis_len) std::nth_element(best.begin(), best.begin() + k, best.end(), before);
        std::sort(best.begin(), best.begin() + k, before);
      }
      const int64_t out_base = o * k * l.inner + i;
      for (int64_t j = 0; j < k; ++j) {
        values[out_base + j * l.inner] = store_as<T>(best[j].first);
        indices[out_base + j * l.inner] = best[j].second;
      }
    }
  });
}

class TopKKernel final : public KernelBase {
 public:
  explicit TopKKernel(const KernelInfo& info) {
    axis_ = info.node.attr_int("axis", -1);
    largest_ = info.node.attr_int("largest", 1) != 0;
    k_from_input_ = info.opset >= 10;
    if (!k_from_input_) {
      k_attr_ = info.node.attr_int("k", -1);
      if (k_attr_ < 0)
        init_status = Status(StatusCode::kInvalidModel, str_cat("TopK: attribute k=", k_attr_, " is invalid"));
    }
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* x;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "TopK", &x));
    int64_t k = k_attr_;
    if (k_from_input_) {
      const Tensor* k_tensor;
      HS_RETURN_IF_ERROR(require_input(ctx, 1, "TopK", &k_tensor));
      if (k_tensor->dtype() != DType::kInt64)
        HS_FAIL(kType, "TopK: K must be int64, got ", dtype_name(k_tensor->dtype()));
      if (k_tensor->numel() != 1)
        HS_FAIL(kShape, "TopK: K must hold one value, got shape ", shape_str(k_tensor->shape()));
      k = k_tensor->data<int64_t>()[0];
    }
    int64_t axis = 0;
    HS_RETURN_IF_ERROR(normalize_axis_of("TopK", axis_, x->rank(), &axis));
    const AxisLayout l = layout_around(x->shape(), axis);
    if (k < 0 || k > l.axis_len)
      HS_FAIL(kInvalidArgument, "TopK: k=", k, " is outside [0, ", l.axis_len, "] for axis ", axis_, " of shape ",
              shape_str(x->shape()));
    Shape out_shape = x->shape();
    out_shape[axis] = k;
    return dispatch(x->dtype(), kNumeric, "TopK", [&](auto tag) {
      using T = decltype(tag);
      Tensor values_scratch, indices_scratch;
      Tensor* values = output_or_scratch(ctx, 0, x->dtype(), out_shape, values_scratch);
      Tensor* indices = output_or_scratch(ctx, 1, DType::kInt64, out_shape, indices_scratch);
      if (values->numel() > 0)
        top_k(x->data<T>(), values->data<T>(), indices->data<int64_t>(), l, k, largest_, ctx.pool());
      return Status::ok();
    });
  }

 private:
  int64_t axis_ = -1;
  bool largest_ = true;
  bool k_from_input_ = true;
  int64_t k_attr_ = 0;
};

HS_REGISTER_KERNEL("", "TopK", TopKKernel);

}  // namespace
}  // namespace hs::cpu
