// Prefill attention launcher (FlashAttention-2 style). See attention_types.h for the tensor layouts.
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"
#include "kernels/cuda/attention_types.h"

namespace hs::cuda {

// Checks the arguments, picks the tensor-core kernel (sm_80+, head_dim 64/96/128) or the general
// kernel (any head_dim <= 256, any sm >= 75) and launches it on `stream`. Asynchronous. With
// HS_ATTENTION_KERNEL=sm90 (prefill_kernel_choice.h) the Hopper kernel runs what it covers.
Status flash_attention_prefill(const PrefillArgs& args, cudaStream_t stream);

}  // namespace hs::cuda
