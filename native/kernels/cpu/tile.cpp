// Tile: the input repeated repeats[d] times along each axis d.
//
// Algorithm: output axis d of length repeats[d] * dim[d] is the pair of axes (repeat, position)
// in row-major order, so the output is the input read through the view with dimensions
// [r0, d0, r1, d1, ...] and strides [0, s0, 0, s1, ...]; strided_copy.h copies it (memcpy'd rows
// of the last axis, parallel over rows).
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_copy.h"

namespace hs::cpu {
namespace {

class TileKernel final : public KernelBase {
 public:
  explicit TileKernel(const KernelInfo&) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor *data, *repeats_t;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Tile", &data));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, "Tile", &repeats_t));
    std::vector<int64_t> repeats;
    HS_RETURN_IF_ERROR(read_int_list(*repeats_t, "Tile", "repeats", &repeats));
    if ((int64_t)repeats.size() != data->rank())
      HS_FAIL(kShape, "Tile: ", repeats.size(), " repeats do not fit input shape ", shape_str(data->shape()));
    const std::vector<int64_t> in_strides = strides_of(data->shape());
    StridedView view;
    Shape out_shape;
    for (size_t d = 0; d < repeats.size(); ++d) {
      if (repeats[d] < 0) HS_FAIL(kShape, "Tile: negative repeat in ", shape_str(repeats));
      view.dims.insert(view.dims.end(), {repeats[d], data->shape()[d]});
      view.strides.insert(view.strides.end(), {0, in_strides[d]});
      out_shape.push_back(repeats[d] * data->shape()[d]);
    }
    return output_strided(ctx, 0, *data, view, out_shape, "Tile");
  }
};

HS_REGISTER_KERNEL("", "Tile", TileKernel);

}  // namespace
}  // namespace hs::cpu
