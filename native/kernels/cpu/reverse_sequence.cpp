// ReverseSequence: for each batch item b, the first sequence_lens[b] steps along the time axis in
// reverse order, the rest as they were. batch_axis and time_axis are 0 and 1 in either order.
#include <cstring>
#include <vector>

#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

class ReverseSequence final : public KernelBase {
 public:
  explicit ReverseSequence(const KernelInfo& info)
      : batch_axis_(info.node.attr_int("batch_axis", 1)), time_axis_(info.node.attr_int("time_axis", 0)) {
    if (!((batch_axis_ == 0 && time_axis_ == 1) || (batch_axis_ == 1 && time_axis_ == 0)))
      init_status = Status(StatusCode::kInvalidModel, str_cat("ReverseSequence: batch_axis and time_axis must be 0 and 1, got ",
                                                              batch_axis_, " and ", time_axis_));
  }

  Status compute(KernelContext& ctx) const override {
    const char* op = "ReverseSequence";
    const Tensor *x, *lens_t;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, op, &x));
    HS_RETURN_IF_ERROR(require_input(ctx, 1, op, &lens_t));
    if (x->rank() < 2) HS_FAIL(kShape, op, ": the input must have rank >= 2, got shape ", x->shape());
    std::vector<int64_t> lens;
    HS_RETURN_IF_ERROR(read_int_list(*lens_t, op, "sequence_lens", &lens));
    const int64_t batch = x->dim(batch_axis_), steps = x->dim(time_axis_);
    if ((int64_t)lens.size() != batch) HS_FAIL(kShape, op, ": sequence_lens has ", lens.size(), " values for a batch of ", batch);
    for (int64_t len : lens)
      if (len < 0 || len > steps) HS_FAIL(kInvalidArgument, op, ": sequence length ", len, " is outside [0, ", steps, "]");
    Tensor* y = ctx.output(0, x->dtype(), x->shape());
    const size_t elem = dtype_size(x->dtype());
    if (elem == 0) HS_FAIL(kType, op, " does not support dtype ", dtype_name(x->dtype()));
    // The trailing axes move as one run of bytes.
    const size_t run = (size_t)(x->numel() / std::max<int64_t>(batch * steps, 1)) * elem;
    const char* src = static_cast<const char*>(x->raw());
    char* dst = static_cast<char*>(y->raw());
    auto at = [&](int64_t b, int64_t t) { return (size_t)(batch_axis_ == 0 ? b * steps + t : t * batch + b) * run; };
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t from = t < lens[(size_t)b] ? lens[(size_t)b] - 1 - t : t;
        std::memcpy(dst + at(b, t), src + at(b, from), run);
      }
    return Status::ok();
  }

 private:
  int64_t batch_axis_, time_axis_;
};

}  // namespace

HS_REGISTER_KERNEL("", "ReverseSequence", ReverseSequence);

}  // namespace hs::cpu
