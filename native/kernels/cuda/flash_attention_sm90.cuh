// Prefill attention for Hopper (sm_90a, wgmma): the launcher behind flash_attention_prefill when
// prefill_kernel_choice.h selects it. Same arguments and results as the FA2 kernel (attention_types.h).
#pragma once
#include <cuda_runtime_api.h>

#include "hs/status.h"
#include "kernels/cuda/attention_types.h"

namespace hs::cuda {

// Whether the Hopper kernel covers these (already checked) arguments: head_dim 64 or 128, no bias,
// q, k, v and out 16-byte aligned. Says nothing about the device.
bool sm90_prefill_supports(const PrefillArgs& args);

// Launches the Hopper kernel on `stream` (asynchronous). `scale_log2` is args.scale * log2(e).
// ERR_CUDA_UNAVAILABLE when the current device is not compute capability 9.0 or this library holds no
// sm_90a image of the kernel (its arch list lacked 90a); ERR_CUDA for failed CUDA calls.
Status flash_attention_prefill_sm90(const PrefillArgs& args, float scale_log2, cudaStream_t stream);

}  // namespace hs::cuda
