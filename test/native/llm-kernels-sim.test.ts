// Runs test/native/llm_kernels_sim.cpp and test/native/paged_attention_sim.cpp: the CUDA LLM engine's
// kernels of native/kernels/cuda/llm_ops.cu and paged_attention.cu on the host (test/native/cuda_sim)
// against float64 references, under AddressSanitizer and UBSan. Skipped, with the reason, without g++
// or the CUDA headers.
import { describe, it } from 'vitest';

import { cudaSimUnavailable } from './native-program';
import { expectSimProgramPasses } from './sim-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/llm-kernels-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('LLM engine kernels, device code run on the host', () => {
  it('embedding gathers, RMSNorm, RoPE into the paged cache, K/V gather, unpermute and SiLU-mul match float64', () => expectSimProgramPasses('llm_kernels_sim', ['native/kernels/cuda/llm_ops.cu']), 600_000);
  it('paged decode attention (GQA, split-K, shuffled blocks) matches float64 softmax(q k^T * scale) v', () => expectSimProgramPasses('paged_attention_sim', ['native/kernels/cuda/paged_attention.cu']), 600_000);
});
