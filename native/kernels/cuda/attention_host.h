// Runs the CUDA attention kernels on host float32 data, for tests. The caller first checks the
// inputs with ref::check_prefill / ref::check_decode (this file links without the CPU code); they are
// rounded to float16/bfloat16, copied to the current device, run, and the results copied back as
// float32. Synchronous. Plain C++: the N-API binding includes it.
#pragma once
#include <vector>

#include "hs/status.h"
#include "kernels/cpu/attention_ref.h"
#include "kernels/cuda/attention_types.h"

namespace hs::cuda {

Status prefill_on_device(AttnDType dtype, const ref::PrefillProblem& problem, ref::FloatSpan q, ref::FloatSpan k,
                         ref::FloatSpan v, ref::FloatSpan bias, std::vector<float>* out, std::vector<float>* lse);

Status decode_on_device(AttnDType dtype, const ref::DecodeProblem& problem, ref::FloatSpan q, ref::FloatSpan k_cache,
                        ref::FloatSpan v_cache, std::vector<float>* out);

}  // namespace hs::cuda
