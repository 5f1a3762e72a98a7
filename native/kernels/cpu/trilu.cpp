// Trilu: the upper (upper=1: column - row >= k) or lower (column - row <= k) triangle of each
// matrix in the last two axes, the rest zero; k is the optional second input (default 0).
//
// Algorithm: each row of each matrix splits at one column into a kept and a zeroed part: one
// memcpy and one memset per row, parallel over rows.
#include <cstring>

#include "kernels/cpu/axis_layout.h"
#include "kernels/cpu/movement.h"

namespace hs::cpu {
namespace {

class TriluKernel final : public KernelBase {
 public:
  explicit TriluKernel(const KernelInfo& info) : upper_(info.node.attr_int("upper", 1) != 0) {}

  Status compute(KernelContext& ctx) const override {
    const Tensor* data;
    HS_RETURN_IF_ERROR(require_input(ctx, 0, "Trilu", &data));
    if (data->rank() < 2) HS_FAIL(kShape, "Trilu: input must have rank >= 2, got shape ", shape_str(data->shape()));
    int64_t k = 0;
    if (ctx.input(1)) HS_RETURN_IF_ERROR(read_int_scalar(*ctx.input(1), "Trilu", "k", &k));
    if (dtype_size(data->dtype()) == 0) HS_FAIL(kType, "Trilu does not support dtype ", dtype_name(data->dtype()));
    Tensor* out = ctx.output(0, data->dtype(), data->shape());
    if (out->numel() == 0) return Status::ok();
    const int64_t rows = data->dim(-2), cols = data->dim(-1);
    k = std::min(std::max(k, -rows - 1), cols + 1);  // beyond these every row splits the same way
    const int64_t elem = (int64_t)dtype_size(data->dtype());
    const char* src = static_cast<const char*>(data->raw());
    char* dst = static_cast<char*>(out->raw());
    const bool upper = upper_;
    ctx.pool().parallel_for(data->numel() / cols, grain_for(cols), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t i = r % rows;
        // Columns [0, split) go to the lower part, [split, cols) to the upper part.
        const int64_t split = std::min(std::max(upper ? i + k : i + k + 1, (int64_t)0), cols);
        const int64_t row = r * cols * elem, split_bytes = split * elem, row_bytes = cols * elem;
        if (upper) {
          std::memset(dst + row, 0, (size_t)split_bytes);
          std::memcpy(dst + row + split_bytes, src + row + split_bytes, (size_t)(row_bytes - split_bytes));
        } else {
          std::memcpy(dst + row, src + row, (size_t)split_bytes);
          std::memset(dst + row + split_bytes, 0, (size_t)(row_bytes - split_bytes));
        }
      }
    });
    return Status::ok();
  }

 private:
  bool upper_;
};

HS_REGISTER_KERNEL("", "Trilu", TriluKernel);

}  // namespace
}  // namespace hs::cpu
