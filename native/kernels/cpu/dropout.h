// Dropout at inference, shared by the CPU kernel (identity_dropout.cpp) and the CUDA one.
#pragma once
#include "hs/status.h"
#include "hs/tensor.h"

namespace hs::cpu {

// OK when Dropout drops nothing: no training_mode or a false one, or a ratio of 0. Training with a
// non-zero ratio is ERR_UNSUPPORTED_OP; a training_mode that is not a bool scalar, or a ratio that
// is not a float scalar, is ERR_TYPE / ERR_SHAPE. A missing ratio means the default, 0.5.
Status check_drops_nothing(const Tensor* ratio, const Tensor* training_mode);

}  // namespace hs::cpu
