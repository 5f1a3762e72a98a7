// The string half of Cast and CastLike: numbers to strings and back, as onnxruntime converts them.
#pragma once
#include "hs/status.h"
#include "hs/tensor.h"
#include "hs/thread_pool.h"

namespace hs::cpu {

// Writes every element of the numeric or bool tensor `x` into the string tensor `y` (same shape).
Status cast_to_strings(const Tensor& x, Tensor* y, ThreadPool& pool);

// Parses every element of the string tensor `x` into `y` (same shape, a numeric or bool dtype);
// ERR_INVALID_ARGUMENT naming the first element that is not a number of that kind.
Status cast_from_strings(const Tensor& x, Tensor* y, ThreadPool& pool);

}  // namespace hs::cpu
