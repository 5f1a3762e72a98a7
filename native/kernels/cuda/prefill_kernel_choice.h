// Which prefill kernel flash_attention_prefill runs where both could: the FA2-style kernel
// (flash_attention.cu, the default) or the Hopper one (flash_attention_sm90.cu, opt-in until it has
// been checked on a GPU). Plain C++, no CUDA headers.
#pragma once

namespace hs::cuda {

enum class PrefillKernel : int { kFa2 = 0, kSm90 = 1 };

// The choice in force: the last set_prefill_kernel, else HS_ATTENTION_KERNEL read once at the first
// call ("sm90" selects the Hopper kernel; unset or any other value keeps fa2).
// With sm90 chosen, a problem outside the Hopper kernel's scope (bias, head_dim other than 64/128,
// unaligned tensors) still runs on fa2, while a device or library that cannot run it at all (not
// compute capability 9.0, or no sm_90a image compiled in) makes flash_attention_prefill fail with
// ERR_CUDA_UNAVAILABLE: a forced choice never turns silently into the other kernel's timings.
PrefillKernel selected_prefill_kernel();

// Overrides the environment for the whole process (the bench's C API switches between kernels).
void set_prefill_kernel(PrefillKernel kernel);

}  // namespace hs::cuda
