// Runs test/native/flash_attention_sim.cpp: the prefill attention kernels of
// native/kernels/cuda/flash_attention.cu (the FlashAttention-2 kernel with its sm_80 PTX emulated, and
// the general kernel) on the host (test/native/cuda_sim) against a float64 reference, under
// AddressSanitizer and UBSan. Skipped, with the reason, without g++ or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/flash-attention-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('prefill attention kernels, device code run on the host', () => {
  it('tensor-core and general kernels match float64: causal, GQA, varlen, padding, bias, LSE', () => expectSimProgramPasses('flash_attention_sim', ['native/kernels/cuda/flash_attention.cu', 'native/kernels/cuda/flash_attention_sm90.cu'], ['native/kernels/cuda/prefill_kernel_choice.cpp'], 600_000), 1_200_000);
});
