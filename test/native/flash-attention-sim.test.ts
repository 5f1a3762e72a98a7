// Runs test/native/flash_attention_sim.cpp: the prefill attention kernels of
// native/kernels/cuda/flash_attention.cu (the FlashAttention-2 kernel with its sm_80 PTX emulated, and
// the general kernel) and flash_attention_sm90.cu (the Hopper kernel, its wgmma emulated) on the host (test/native/cuda_sim) against a float64 reference, under
// AddressSanitizer and UBSan. Skipped, with the reason, without g++ or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/flash-attention-sim: skipped, ${reason}`);

const sources = ['native/kernels/cuda/flash_attention.cu', 'native/kernels/cuda/flash_attention_sm90.cu'];
const extra = ['native/kernels/cuda/prefill_kernel_choice.cpp'];

(reason ? describe.skip : describe)('prefill attention kernels, device code run on the host', () => {
  it('tensor-core and general kernels match float64: causal, GQA, varlen, padding, bias, LSE', () =>
    expectSimProgramPasses('flash_attention_sim', sources, extra, 600_000), 1_200_000);

  it('the Hopper (wgmma) kernel matches float64 on an sm_90a device, and is refused without the image', () =>
    expectSimProgramPasses('flash_attention_sim', sources, extra, 600_000, ['sm90']), 1_200_000);
});
