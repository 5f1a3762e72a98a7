// Runs test/native/llm_kernels_sim.cpp and test/native/paged_attention_sim.cpp: the CUDA LLM engine's
// kernels of native/kernels/cuda/llm_ops.cu and paged_attention.cu on the host (test/native/cuda_sim)
// against float64 references, under AddressSanitizer and UBSan. Skipped, with the reason, without g++
// or the CUDA headers.
import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaSimUnavailable, runNativeProgram } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/llm-kernels-sim: skipped, ${reason}`);

function buildSim(name: string, source: string, cudaSource: string): string {
  return buildNativeProgram({
    name,
    sources: [source, 'native/core/status.cpp'],
    cudaSources: [cudaSource],
    includes: ['test/native/cuda_sim', 'native/include', 'native'],
    std: 'c++20',
    extraFlags: ['-Wno-unknown-pragmas'],
  });
}

(reason ? describe.skip : describe)('LLM engine kernels, device code run on the host', () => {
  it('embedding gathers, RMSNorm, RoPE into the paged cache, K/V gather, unpermute and SiLU-mul match float64', () => {
    const exe = buildSim('llm-kernels-sim', 'test/native/llm_kernels_sim.cpp', 'native/kernels/cuda/llm_ops.cu');
    const { status, out } = runNativeProgram(exe);
    expect(out).toContain('llm_kernels_sim: all passed');
    expect(status).toBe(0);
  }, 600_000);

  it('paged decode attention (GQA, split-K, shuffled blocks) matches float64 softmax(q k^T * scale) v', () => {
    const exe = buildSim('paged-attention-sim', 'test/native/paged_attention_sim.cpp', 'native/kernels/cuda/paged_attention.cu');
    const { status, out } = runNativeProgram(exe);
    expect(out).toContain('paged_attention_sim: all passed');
    expect(status).toBe(0);
  }, 600_000);
});
