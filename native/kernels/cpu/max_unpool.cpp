// MaxUnpool: the inverse of MaxPool with Indices: an output of zeros, of shape output_shape or else
// (in - 1) * stride + kernel - pads per spatial axis, with each X value written at its flat index
// from I over the whole output. MaxPool numbers its indices over its input, which output_shape
// restores (the odd sizes that pooling dropped), so they address the output as they are; this is
// onnxruntime's reading. (The ONNX reference instead keeps each index's coordinates in the inferred
// shape, and its test of output_shape expects that.)
#include <cstring>
#include <vector>

#include "kernels/cpu/conv_geometry.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

class MaxUnpool final : public KernelBase {
 public:
  explicit MaxUnpool(const KernelInfo& info) { init_status = parse_window_attrs(info.node, &attrs_); }

  Status compute(KernelContext& ctx) const override {
    const char* op = "MaxUnpool";
    const Tensor *x, *indices;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &indices));
    if (indices->dtype() != DType::kInt64 || indices->shape() != x->shape())
      HS_FAIL(kShape, op, ": I must be int64 of X's shape ", x->shape(), ", got ", dtype_name(indices->dtype()), " ", indices->shape());
    if (x->rank() < 3) HS_FAIL(kShape, op, ": X must be [N, C, spatial...], got ", x->shape());
    const size_t spatial = (size_t)x->rank() - 2;
    if (attrs_.kernel_shape.size() != spatial) HS_FAIL(kInvalidModel, op, ": kernel_shape must have ", spatial, " values");
    Shape inferred{x->dim(0), x->dim(1)};
    for (size_t d = 0; d < spatial; ++d) {
      const int64_t stride = attrs_.strides.empty() ? 1 : attrs_.strides[d];
      const int64_t pads = attrs_.pads.empty() ? 0 : attrs_.pads[d] + attrs_.pads[d + spatial];
      inferred.push_back((x->dim((int64_t)d + 2) - 1) * stride + attrs_.kernel_shape[d] - pads);
    }
    for (int64_t v : inferred)
      if (v < 0) HS_FAIL(kShape, op, ": the output shape ", inferred, " is negative");
    Shape out = inferred;
    if (const Tensor* shape_t = ctx.input(2); shape_t && shape_t->numel() > 0) {
      HS_RETURN_IF_ERROR(read_int_list(*shape_t, op, "output_shape", &out));
      if (out.size() != inferred.size() || out[0] != inferred[0] || out[1] != inferred[1])
        HS_FAIL(kShape, op, ": output_shape ", out, " does not fit X ", x->shape());
      for (int64_t v : out)
        if (v < 0) HS_FAIL(kShape, op, ": output_shape ", out, " is negative");
    }
    Tensor* y = ctx.output(0, x->dtype(), out);
    const size_t elem = dtype_size(x->dtype());
    if (elem == 0) HS_FAIL(kType, op, " does not support dtype ", dtype_name(x->dtype()));
    std::memset(y->raw(), 0, y->nbytes());
    const int64_t* idx = indices->data<int64_t>();
    const char* src = static_cast<const char*>(x->raw());
    char* dst = static_cast<char*>(y->raw());
    for (int64_t i = 0; i < x->numel(); ++i) {
      if (idx[i] < 0 || idx[i] >= y->numel())
        HS_FAIL(kInvalidArgument, op, ": index ", idx[i], " is outside the output of ", y->numel(), " values");
      std::memcpy(dst + (size_t)idx[i] * elem, src + (size_t)i * elem, elem);
    }
    return Status::ok();
  }

 private:
  WindowAttrs attrs_;
};

}  // namespace

HS_REGISTER_KERNEL("", "MaxUnpool", MaxUnpool);

}  // namespace hs::cpu
