// Outputs that a kernel must compute even when the graph does not read them (TopK's indices,
// a recurrent layer's states): KernelContext::output hands every unread output the same sink
// tensor, so a second unread output would free the first; these go to a caller-owned tensor.
#pragma once
#include "hs/kernel.h"

namespace hs::cpu {

// ctx.output(i, ...) when output i is read, else a new tensor held in `scratch`.
inline Tensor* output_or_scratch(KernelContext& ctx, int i, DType dtype, const Shape& shape, Tensor& scratch) {
  if (ctx.output_wanted(i)) return ctx.output(i, dtype, shape);
  scratch = Tensor::empty(dtype, shape);
  return &scratch;
}

}  // namespace hs::cpu
