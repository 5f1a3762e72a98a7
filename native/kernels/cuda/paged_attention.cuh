// Decode attention launcher over a paged KV cache, split-K along the context. See attention_types.h.
#pragma once
#include <cstddef>

#include <cuda_runtime_api.h>

#include "hs/status.h"
#include "kernels/cuda/attention_types.h"

namespace hs::cuda {

// Bytes of device scratch that paged_attention_decode needs for these arguments (0 when the context
// fits one split).
size_t paged_attention_workspace_size(const DecodeArgs& args);

// Checks the arguments and launches the partition kernel (and the split reduction when the context
// spans several partitions) on `stream`. Asynchronous. head_dim: a multiple of 8, at most 256.
Status paged_attention_decode(const DecodeArgs& args, cudaStream_t stream);

}  // namespace hs::cuda
