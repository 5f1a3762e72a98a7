// Runs test/native/flash_attention_sim.cpp: the prefill attention kernels of
// native/kernels/cuda/flash_attention.cu (the FlashAttention-2 kernel with its sm_80 PTX emulated, and
// the general kernel) on the host (test/native/cuda_sim) against a float64 reference, under
// AddressSanitizer and UBSan. Skipped, with the reason, without g++ or the CUDA headers.
import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaSimUnavailable, runNativeProgram } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/flash-attention-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('prefill attention kernels, device code run on the host', () => {
  it('tensor-core and general kernels match float64: causal, GQA, varlen, padding, bias, LSE', () => {
    const exe = buildNativeProgram({
      name: 'flash-attention-sim',
      sources: ['test/native/flash_attention_sim.cpp', 'native/kernels/cuda/prefill_kernel_choice.cpp', 'native/core/status.cpp'],
      cudaSources: ['native/kernels/cuda/flash_attention.cu', 'native/kernels/cuda/flash_attention_sm90.cu'],
      includes: ['test/native/cuda_sim', 'native/include', 'native'],
      std: 'c++20',
      extraFlags: ['-Wno-unknown-pragmas'],
    });
    const { status, out } = runNativeProgram(exe, 600_000);
    expect(out).toContain('flash_attention_sim: all passed');
    expect(status).toBe(0);
  }, 1_200_000);
});
