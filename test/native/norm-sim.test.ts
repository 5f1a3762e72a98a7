// Runs test/native/norm_sim.cpp: the normalisation kernels of native/kernels/cuda/norm.cu on the host
// (test/native/cuda_sim) against float64 references, under AddressSanitizer and UBSan. Skipped, with
// the reason, without g++ or the CUDA headers.
import { describe, expect, it } from 'vitest';

import { buildNativeProgram, cudaSimUnavailable, runNativeProgram } from './native-program';

const reason = cudaSimUnavailable();
if (reason) console.log(`test/native/norm-sim: skipped, ${reason}`);

(reason ? describe.skip : describe)('normalisation kernels, device code run on the host', () => {
  it('layer norm, batch norm and softmax (rows with scale and mask, strided axis) match float64', () => {
    const exe = buildNativeProgram({
      name: 'norm-sim',
      sources: ['test/native/norm_sim.cpp', 'native/core/status.cpp'],
      cudaSources: ['native/kernels/cuda/norm.cu'],
      includes: ['test/native/cuda_sim', 'native/include', 'native'],
      std: 'c++20',
      extraFlags: ['-Wno-unknown-pragmas'],
    });
    const { status, out } = runNativeProgram(exe);
    expect(out).toContain('norm_sim: all passed');
    expect(status).toBe(0);
  }, 600_000);
});
