// Transpose: output dimension i is input dimension perm[i] (reversed when perm is absent).
//
// Algorithm: the output is the input read through permuted strides (strided_copy.h). After
// size-1 axes are dropped and runs of axes that stay in order are merged, a permutation that
// keeps the last axis in place is a row memcpy per outer index ([B,H,S,D] -> [B,S,H,D]), one
// that moves it transposes cache-sized tiles with SSE2 register transposes ([B,H,S,D] ->
// [B,H,D,S]), and one that changes nothing is a zero-copy view. Parallel over rows or tiles.
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_copy.h"

namespace hs::cpu {
namespace {

class TransposeKernel final : public KernelBase {
 public:
  explicit TransposeKernel(const KernelInfo& info) {
    if (const Attribute* a = info.node.attr("perm")) {
      perm_ = a->ints;
      has_perm_ = true;
    }
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Transpose", &data));
    const int64_t rank = data->rank();
    std::vector<int64_t> perm = perm_;
    if (!has_perm_)
      for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
    if ((int64_t)perm.size() != rank)
      HS_FAIL(kShape, "Transpose: perm ", shape_str(perm), " does not fit input shape ", shape_str(data->shape()));
    std::vector<bool> used((size_t)rank, false);
    for (int64_t p : perm) {
      if (p < 0 || p >= rank || used[(size_t)p])
        HS_FAIL(kInvalidArgument, "Transpose: perm ", shape_str(perm), " is not a permutation of ", rank, " axes");
      used[(size_t)p] = true;
    }
    const std::vector<int64_t> in_strides = strides_of(data->shape());
    StridedView view;
    for (int64_t p : perm) {
      view.dims.push_back(data->dim(p));
      view.strides.push_back(in_strides[(size_t)p]);
    }
    const Shape out_shape = view.dims;
    return output_strided(ctx, 0, *data, view, out_shape, "Transpose");
  }

 private:
  std::vector<int64_t> perm_;
  bool has_perm_ = false;
};

HS_REGISTER_KERNEL("", "Transpose", TransposeKernel);

}  // namespace
}  // namespace hs::cpu
