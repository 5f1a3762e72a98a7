// DepthToSpace (modes DCR and CRD) and SpaceToDepth on NCHW tensors with block size b.
//
// Algorithm: both are a reshape to 6-D, a transpose and a reshape back, so the output is the
// input read through one 6-D strided view (strided_copy.h):
//   DepthToSpace DCR: [N, b1, b2, C', H, W] -> [N, C', H, b1, W, b2]
//   DepthToSpace CRD: [N, C', b1, b2, H, W] -> [N, C', H, b1, W, b2]
//   SpaceToDepth:     [N, C, H', b1, W', b2] -> [N, b1, b2, C, H', W']
#include "kernels/cpu/movement.h"
#include "kernels/cpu/strided_copy.h"

namespace hs::cpu {
namespace {

Status check_nchw(const Shape& x, const char* op) {
  if (x.size() != 4) HS_FAIL(kShape, op, ": input must be NCHW, got shape ", shape_str(x));
  return Status::ok();
}

}  // namespace

Status depth_to_space_view(const Shape& x, int64_t block, bool crd, Shape* dims, std::vector<int64_t>* strides, Shape* out) {
  HS_RETURN_IF_ERROR(check_nchw(x, "DepthToSpace"));
  const int64_t n = x[0], c = x[1], h = x[2], w = x[3], b = block;
  if (c % (b * b) != 0) HS_FAIL(kShape, "DepthToSpace: channels ", c, " are not a multiple of blocksize^2 = ", b * b);
  const int64_t cc = c / (b * b), hw = h * w;
  // Strides of b1, b2 and C' in the input's channel axis.
  const int64_t s_b1 = crd ? b * hw : b * cc * hw, s_b2 = crd ? hw : cc * hw, s_c = crd ? b * b * hw : hw;
  *dims = {n, cc, h, b, w, b};
  *strides = {c * hw, s_c, w, s_b1, 1, s_b2};
  *out = {n, cc, h * b, w * b};
  return Status::ok();
}

Status space_to_depth_view(const Shape& x, int64_t block, Shape* dims, std::vector<int64_t>* strides, Shape* out) {
  HS_RETURN_IF_ERROR(check_nchw(x, "SpaceToDepth"));
  const int64_t n = x[0], c = x[1], h = x[2], w = x[3], b = block;
  if (h % b != 0 || w % b != 0) HS_FAIL(kShape, "SpaceToDepth: height ", h, " and width ", w, " must be multiples of blocksize ", b);
  *dims = {n, b, b, c, h / b, w / b};
  *strides = {c * h * w, w, 1, h * w, b * w, b};
  *out = {n, c * b * b, h / b, w / b};
  return Status::ok();
}

namespace {

class DepthToSpaceKernel final : public KernelBase {
 public:
  explicit DepthToSpaceKernel(const KernelInfo& info) : block_(info.node.attr_int("blocksize", 0)) {
    const std::string mode = info.node.attr_string("mode", "DCR");
    crd_ = mode == "CRD";
    if (mode != "DCR" && mode != "CRD")
      init_status = Status(StatusCode::kUnsupportedOp, str_cat("DepthToSpace: mode '", mode, "' is not supported"));
    else if (block_ < 1)
      init_status = Status(StatusCode::kInvalidModel, str_cat("DepthToSpace: blocksize ", block_, " must be positive"));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "DepthToSpace", &data));
    StridedView view;
    Shape out;
    HS_RETURN_IF_ERROR(depth_to_space_view(data->shape(), block_, crd_, &view.dims, &view.strides, &out));
    return output_strided(ctx, 0, *data, view, out, "DepthToSpace");
  }

 private:
  int64_t block_;
  bool crd_ = false;
};

class SpaceToDepthKernel final : public KernelBase {
 public:
  explicit SpaceToDepthKernel(const KernelInfo& info) : block_(info.node.attr_int("blocksize", 0)) {
    if (block_ < 1)
      init_status = Status(StatusCode::kInvalidModel, str_cat("SpaceToDepth: blocksize ", block_, " must be positive"));
  }

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "SpaceToDepth", &data));
    StridedView view;
    Shape out;
    HS_RETURN_IF_ERROR(space_to_depth_view(data->shape(), block_, &view.dims, &view.strides, &out));
    return output_strided(ctx, 0, *data, view, out, "SpaceToDepth");
  }

 private:
  int64_t block_;
};

HS_REGISTER_KERNEL("", "DepthToSpace", DepthToSpaceKernel);
HS_REGISTER_KERNEL("", "SpaceToDepth", SpaceToDepthKernel);

}  // namespace
}  // namespace hs::cpu
