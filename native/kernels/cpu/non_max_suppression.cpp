// NonMaxSuppression: for each batch item and class, the boxes kept by greedy suppression, as
// int64 rows [batch, class, box]: boxes whose score passes score_threshold, in descending score
// order (ties: the lower box index first), each kept unless its IoU with a kept box exceeds
// iou_threshold, at most max_output_boxes_per_class of them (0 or absent: none).
// Boxes are [y1, x1, y2, x2] corners in either order (center_point_box 0) or [x_center,
// y_center, width, height] (1). Rows are ordered by batch, then class, then selection.
#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

struct Box {
  float y0, x0, y1, x1;  // y0 <= y1, x0 <= x1
  float area() const { return (y1 - y0) * (x1 - x0); }
};

Box box_at(const float* b, bool center) {
  if (center) return {b[1] - b[3] / 2, b[0] - b[2] / 2, b[1] + b[3] / 2, b[0] + b[2] / 2};
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

// Intersection over union; 0 when either box is empty.
float iou(const Box& a, const Box& b) {
  const float area_a = a.area(), area_b = b.area();
  if (area_a <= 0 || area_b <= 0) return 0.f;
  const float h = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float w = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float inter = h * w;
  return inter / (area_a + area_b - inter);
}

class NonMaxSuppression final : public KernelBase {
 public:
  explicit NonMaxSuppression(const KernelInfo& info) : center_(info.node.attr_int("center_point_box", 0)) {
    if (center_ != 0 && center_ != 1)
      init_status = Status(StatusCode::kInvalidModel, str_cat("NonMaxSuppression: center_point_box must be 0 or 1, got ", center_));
  }

  Status compute(KernelContext& ctx) const override {
    const char* op = "NonMaxSuppression";
    const Tensor *boxes, *scores;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &boxes));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &scores));
    if (boxes->dtype() != DType::kFloat32 || scores->dtype() != DType::kFloat32)
      HS_FAIL(kType, op, ": boxes and scores must be float32");
    if (boxes->rank() != 3 || boxes->dim(2) != 4 || scores->rank() != 3 || scores->dim(0) != boxes->dim(0) ||
        scores->dim(2) != boxes->dim(1))
      HS_FAIL(kShape, op, ": boxes ", boxes->shape(), " must be [batch, boxes, 4] and scores ", scores->shape(),
              " [batch, classes, boxes]");
    int64_t max_out = 0;
    float iou_threshold = 0.f, score_threshold = 0.f;
    bool use_score_threshold = false;
    if (const Tensor* t = ctx.input(2); t && t->numel() > 0) HS_RETURN_IF_ERROR(read_int_scalar(*t, op, "max_output_boxes_per_class", &max_out));
    HS_RETURN_IF_ERROR(float_scalar(ctx.input(3), "iou_threshold", &iou_threshold, nullptr));
    HS_RETURN_IF_ERROR(float_scalar(ctx.input(4), "score_threshold", &score_threshold, &use_score_threshold));
    if (iou_threshold < 0 || iou_threshold > 1) HS_FAIL(kInvalidArgument, op, ": iou_threshold ", iou_threshold, " is outside [0, 1]");

    const int64_t batch = boxes->dim(0), count = boxes->dim(1), classes = scores->dim(1);
    std::vector<int64_t> rows;  // triples
    std::vector<int64_t> order;
    std::vector<Box> kept;
    for (int64_t b = 0; b < batch && max_out > 0; ++b) {
      const float* bb = boxes->data<float>() + b * count * 4;
      for (int64_t c = 0; c < classes; ++c) {
        const float* sc = scores->data<float>() + (b * classes + c) * count;
        order.clear();
        for (int64_t i = 0; i < count; ++i)
          if (!use_score_threshold || sc[i] > score_threshold) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return sc[i] > sc[j]; });
        kept.clear();
        for (int64_t i : order) {
          if ((int64_t)kept.size() == max_out) break;
          const Box box = box_at(bb + i * 4, center_ == 1);
          if (std::any_of(kept.begin(), kept.end(), [&](const Box& k) { return iou(k, box) > iou_threshold; })) continue;
          kept.push_back(box);
          rows.insert(rows.end(), {b, c, i});
        }
      }
    }
    int64_t* y = ctx.output(0, DType::kInt64, {(int64_t)rows.size() / 3, 3})->data<int64_t>();
    std::copy(rows.begin(), rows.end(), y);
    return Status::ok();
  }

 private:
  // An optional float32 scalar input; *given (if asked) says whether it was there.
  static Status float_scalar(const Tensor* t, const char* what, float* out, bool* given) {
    if (given) *given = t && t->numel() > 0;
    if (!t || t->numel() == 0) return Status::ok();
    if (t->dtype() != DType::kFloat32 || t->numel() != 1)
      HS_FAIL(kType, "NonMaxSuppression: ", what, " must be a float32 scalar, got ", dtype_name(t->dtype()), " ", t->shape());
    *out = t->data<float>()[0];
    return Status::ok();
  }

  int64_t center_;
};

}  // namespace

HS_REGISTER_KERNEL("", "NonMaxSuppression", NonMaxSuppression);

}  // namespace hs::cpu
